-- Every object: kind, name, attrs (attribute names and values alternating, a NULL value for an
-- absent attribute; attrs NULL: the object is not listed itself, it only carries a comment or
-- grants: indexes backing a constraint, columns of views and composite types), its comment,
-- its ACL with the kind of ACL (acldefault's letter; NULL: no ACL) and the owner, and for a
-- column the relation it belongs to, and the unit it is read with (see finish.sql). Grants leave out the owner's. Only functions and types
-- have default privileges beyond their owner's (EXECUTE and USAGE for PUBLIC), so a NULL ACL of
-- any other object grants nothing to record.
-- Each part reaches the catalogs from the scope (rel, typ, fn) through LATERAL subqueries keyed
-- on the object (OFFSET 0 keeps them from being flattened into joins): with a tracker's settings
-- (no sequential scans) each is an index lookup per object, whatever the estimates of a plan
-- made while the catalogs were small; a whole snapshot does one lookup per object.
SELECT o.kind, o.name, o.attrs, o.comment,
       CASE WHEN o.acl IS NOT NULL OR o.acl_kind IN ('f', 'T') THEN (
           SELECT array_agg(e.item ORDER BY g.grantee, e.n)
           FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                             ELSE quote_ident(pg_get_userbyid(x.grantee)) END AS grantee,
                        string_agg(DISTINCT x.privilege_type, ', '
                                   ORDER BY x.privilege_type) AS privileges,
                        string_agg(DISTINCT x.privilege_type, ', '
                                   ORDER BY x.privilege_type)
                            FILTER (WHERE x.is_grantable) AS grantable
                 FROM aclexplode(coalesce(o.acl, acldefault(o.acl_kind, o.owner))) AS x
                 WHERE x.grantee <> o.owner
                 GROUP BY x.grantee) g
           CROSS JOIN LATERAL (VALUES (1, g.grantee), (2, g.privileges), (3, g.grantable))
               AS e(n, item)) END AS grants,
       o.relation, o.unit
FROM (
