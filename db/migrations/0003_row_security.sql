-- Row-level security, part two (part one is generated: ENABLE ROW LEVEL SECURITY and the
-- tenant_isolation / owner_maintenance policies come from tenantPolicies() in the schema).
--
-- FORCE makes the policies apply to the table owner as well. Without it meridian_owner, and so
-- every SECURITY DEFINER function it owns, would bypass RLS silently; with it the owner passes
-- only through the explicit owner_maintenance policy. A new table needs its FORCE line in a
-- custom migration like this one.
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "users" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "api_keys" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "sessions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "invitations" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "password_resets" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "tenant_secrets" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "idempotency_keys" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "audit_logs" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agents" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_versions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "conversations" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "messages" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "tool_executions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "collections" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "documents" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "chunks" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "rag_queries" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "rag_sources" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mcp_servers" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mcp_server_configs" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mcp_server_registry" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "workflows" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "workflow_versions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "workflow_executions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "workflow_step_executions" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_tasks" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_messages" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- meridian_tenant is the only role with table privileges. meridian_app (the Worker's login) gets
-- none: it is NOINHERIT, so it must SET ROLE meridian_tenant (withTenant does, per transaction)
-- and otherwise can only call the privileged functions of the next migration.
GRANT USAGE ON SCHEMA public TO meridian_tenant;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO meridian_tenant;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES FOR ROLE meridian_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meridian_tenant;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES FOR ROLE meridian_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO meridian_tenant;--> statement-breakpoint
-- Functions the owner creates later are not callable by everyone by default: each one is
-- granted on purpose, like the privileged path.
ALTER DEFAULT PRIVILEGES FOR ROLE meridian_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;--> statement-breakpoint

-- The audit trail is append-only for tenants: a compromised or buggy request can add entries
-- but not rewrite or erase them.
REVOKE UPDATE, DELETE ON "audit_logs" FROM meridian_tenant;--> statement-breakpoint
-- A tenant row is only ever soft-deleted through the API (deleted_at). The hard delete, which
-- cascades through every table and anonymises the audit trail, belongs to the purge function.
REVOKE DELETE ON "tenants" FROM meridian_tenant;
