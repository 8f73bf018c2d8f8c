-- Row-level security for mcp_files, part two (see 0003_row_security.sql): FORCE so the table
-- owner, and every SECURITY DEFINER function it owns, passes only through owner_maintenance.
-- Table privileges for meridian_tenant come from 0003's default privileges.
ALTER TABLE "mcp_files" FORCE ROW LEVEL SECURITY;
