-- The event log of partial snapshots (see events.sql): two event triggers write every object a
-- DDL command creates, alters or drops into an unlogged table, which the change marker empties.
-- Created by a superuser (event triggers need one) in the scratch database only, in a schema no
-- snapshot shows; ENABLE ALWAYS: they fire whatever session_replication_role a migration sets;
-- SECURITY DEFINER: they can write the log after a migration's SET ROLE.
CREATE SCHEMA _packit_db_events;
CREATE UNLOGGED TABLE _packit_db_events.log (
    classid oid,
    objid oid,
    objsubid int4,
    dropped bool NOT NULL,
    command text
);
CREATE FUNCTION _packit_db_events.on_command() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO _packit_db_events.log (classid, objid, objsubid, dropped, command)
    SELECT c.classid, c.objid, c.objsubid, false, c.command_tag
    FROM pg_event_trigger_ddl_commands() AS c;
END
$$;
CREATE FUNCTION _packit_db_events.on_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO _packit_db_events.log (classid, objid, objsubid, dropped, command)
    SELECT d.classid, d.objid, d.objsubid, true, tg_tag
    FROM pg_event_trigger_dropped_objects() AS d;
END
$$;
CREATE EVENT TRIGGER _packit_db_command ON ddl_command_end
    EXECUTE FUNCTION _packit_db_events.on_command();
CREATE EVENT TRIGGER _packit_db_drop ON sql_drop EXECUTE FUNCTION _packit_db_events.on_drop();
ALTER EVENT TRIGGER _packit_db_command ENABLE ALWAYS;
ALTER EVENT TRIGGER _packit_db_drop ENABLE ALWAYS;
