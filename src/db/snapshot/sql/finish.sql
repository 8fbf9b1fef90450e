-- Closes the union of the parts that select.sql opens, naming its columns. `unit` is what a partial
-- snapshot re-reads an object with: 'r' and the OID of its relation (a table with its columns,
-- constraints, indexes, triggers, rules, policies and statistics; a view; a sequence; a composite
-- type), 't' and the OID of its type (enum, domain, range), 'f' and the OID of its function, or
-- 'g' for the schemas, extensions and event triggers.
) AS o (kind, name, attrs, comment, acl, acl_kind, owner, relation, unit)
