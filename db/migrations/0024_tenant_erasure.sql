CREATE TABLE "tenant_exports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"object_key" text,
	"rows" bigint,
	"bytes" bigint,
	"error" text,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_exports_tenant_id_id_key" UNIQUE("tenant_id","id"),
	CONSTRAINT "tenant_exports_status_check" CHECK ("tenant_exports"."status" in ('pending', 'running', 'completed', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "tenant_exports" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "usage_events" DROP CONSTRAINT "usage_events_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "usage_rollups" DROP CONSTRAINT "usage_rollups_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "tenant_exports" ADD CONSTRAINT "tenant_exports_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tenant_exports_tenant_id_created_at_idx" ON "tenant_exports" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "tenant_exports" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "tenant_exports" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
-- Row-level security, part two (see 0003_row_security.sql).
ALTER TABLE "tenant_exports" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- Erases one tenant from PostgreSQL, for the erasure job once the tenant's objects, Durable
-- Object storage and Redis keys are gone (workers/tenants/erasure). Only a soft-deleted tenant
-- (the DELETE route or the grace period made it one): a live tenant raises. The tenant row's
-- delete cascades through every tenant table; what the retention rule keeps is anonymised:
-- audit rows lose who and from where, usage events and rollups lose the user and API key
-- (rollups are re-summed, since stripping two key columns merges rows). A tenant already gone
-- is not an error, so a redelivered job finishes the anonymisation and returns zeros.
CREATE FUNCTION meridian_erase_tenant(p_tenant_id uuid)
RETURNS TABLE (table_name text, affected bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_count bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM tenants t WHERE t.id = p_tenant_id AND t.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'meridian_erase_tenant: tenant % is not deleted', p_tenant_id
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  DELETE FROM tenants t WHERE t.id = p_tenant_id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'tenants';
  affected := v_count;
  RETURN NEXT;

  UPDATE audit_logs a SET actor_id = NULL, ip = NULL, changes = NULL
  WHERE a.tenant_id = p_tenant_id AND (a.actor_id IS NOT NULL OR a.ip IS NOT NULL OR a.changes IS NOT NULL);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'audit_logs (anonymised)';
  affected := v_count;
  RETURN NEXT;

  UPDATE usage_events e SET user_id = NULL, api_key_id = NULL
  WHERE e.tenant_id = p_tenant_id AND (e.user_id IS NOT NULL OR e.api_key_id IS NOT NULL);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'usage_events (anonymised)';
  affected := v_count;
  RETURN NEXT;

  WITH stripped AS (
    DELETE FROM usage_rollups r
    WHERE r.tenant_id = p_tenant_id AND (r.user_id IS NOT NULL OR r.api_key_id IS NOT NULL)
    RETURNING r.tenant_id, r.hour, r.meter, r.model, r.agent_id, r.quantity, r.cost_micro_usd, r.events
  )
  INSERT INTO usage_rollups AS r (tenant_id, hour, meter, model, agent_id, user_id, api_key_id, quantity, cost_micro_usd, events)
  SELECT s.tenant_id, s.hour, s.meter, s.model, s.agent_id, NULL, NULL, sum(s.quantity), sum(s.cost_micro_usd), sum(s.events)
  FROM stripped s
  GROUP BY s.tenant_id, s.hour, s.meter, s.model, s.agent_id
  ON CONFLICT ON CONSTRAINT usage_rollups_key DO UPDATE
  SET quantity = r.quantity + excluded.quantity,
      cost_micro_usd = r.cost_micro_usd + excluded.cost_micro_usd,
      events = r.events + excluded.events;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'usage_rollups (anonymised)';
  affected := v_count;
  RETURN NEXT;
END
$$;--> statement-breakpoint
ALTER FUNCTION meridian_erase_tenant(uuid) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_erase_tenant(uuid) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_erase_tenant(uuid) TO meridian_app;--> statement-breakpoint

-- Tenants soft-deleted more than p_older_than ago, oldest first: the purge hands each to the
-- erasure job, which clears object storage, Durable Objects and Redis before the rows go.
CREATE FUNCTION meridian_tenants_due_for_erasure(p_older_than interval, p_limit integer)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT t.id FROM tenants t
  WHERE t.deleted_at < now() - p_older_than
  ORDER BY t.deleted_at
  LIMIT p_limit
$$;--> statement-breakpoint
ALTER FUNCTION meridian_tenants_due_for_erasure(interval, integer) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_tenants_due_for_erasure(interval, integer) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_tenants_due_for_erasure(interval, integer) TO meridian_app;--> statement-breakpoint

-- The purge no longer deletes tenants itself: a tenant's rows may go only after its objects,
-- Durable Object storage and Redis keys, which PostgreSQL cannot reach, so tenants past the
-- grace period go through the erasure job (meridian_tenants_due_for_erasure, then
-- meridian_erase_tenant). What the purge still does: the other soft-deleted rows, audit rows
-- and now usage rollups of erased tenants past p_audit_retention, and expired auth and
-- idempotency rows. Same signature and result type as in 0004.
CREATE OR REPLACE FUNCTION meridian_purge_soft_deleted(p_older_than interval, p_audit_retention interval DEFAULT interval '1 year')
RETURNS TABLE (table_name text, purged bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_cutoff timestamptz := now() - p_older_than;
  v_table text;
  v_count bigint;
BEGIN
  IF p_older_than IS NULL OR p_older_than < interval '0' THEN
    RAISE EXCEPTION 'meridian_purge_soft_deleted: p_older_than must be a non-negative interval'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  FOREACH v_table IN ARRAY ARRAY['documents', 'collections', 'conversations', 'agents', 'workflows', 'mcp_servers', 'users'] LOOP
    EXECUTE format('DELETE FROM %I WHERE deleted_at < $1', v_table) USING v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := v_table;
    purged := v_count;
    RETURN NEXT;
  END LOOP;

  DELETE FROM audit_logs a
  WHERE a.created_at < now() - p_audit_retention
    AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'audit_logs';
  purged := v_count;
  RETURN NEXT;

  DELETE FROM usage_rollups r
  WHERE r.hour < now() - p_audit_retention
    AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = r.tenant_id);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'usage_rollups';
  purged := v_count;
  RETURN NEXT;

  DELETE FROM idempotency_keys WHERE expires_at < now();
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'idempotency_keys';
  purged := v_count;
  RETURN NEXT;

  FOREACH v_table IN ARRAY ARRAY['sessions', 'invitations', 'password_resets'] LOOP
    EXECUTE format('DELETE FROM %I WHERE expires_at < $1', v_table) USING v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := v_table;
    purged := v_count;
    RETURN NEXT;
  END LOOP;
END
$$;
