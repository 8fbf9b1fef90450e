-- Closes the union of the parts that prelude.sql opens, naming its columns.
) AS o (kind, name, attrs, comment, acl, acl_kind, owner, relation)
