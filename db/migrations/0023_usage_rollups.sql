CREATE TABLE "usage_rollups" (
	"tenant_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"meter" text NOT NULL,
	"model" text,
	"agent_id" uuid,
	"user_id" uuid,
	"api_key_id" uuid,
	"quantity" bigint NOT NULL,
	"cost_micro_usd" bigint NOT NULL,
	"events" bigint NOT NULL,
	CONSTRAINT "usage_rollups_key" UNIQUE NULLS NOT DISTINCT("tenant_id","hour","meter","model","agent_id","user_id","api_key_id"),
	CONSTRAINT "usage_rollups_meter_check" CHECK ("usage_rollups"."meter" in ('model_input_tokens', 'model_output_tokens', 'model_cache_write_tokens', 'model_cache_read_tokens', 'embedding_tokens', 'chunks', 'tool_calls'))
);
--> statement-breakpoint
ALTER TABLE "usage_rollups" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "usage_rollups" ADD CONSTRAINT "usage_rollups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "usage_rollups" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "usage_rollups" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
ALTER TABLE "usage_rollups" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- The events recorded before this migration, rolled up once.
INSERT INTO usage_rollups (tenant_id, hour, meter, model, agent_id, user_id, api_key_id, quantity, cost_micro_usd, events)
SELECT tenant_id, date_trunc('hour', occurred_at), meter, model, agent_id, user_id, api_key_id,
       sum(quantity), sum(cost_micro_usd), count(*)
FROM usage_events
GROUP BY 1, 2, 3, 4, 5, 6, 7;--> statement-breakpoint

-- Deletes raw usage events older than p_older_than, across tenants, for the hourly housekeeping.
-- Their hourly rollups stay, so reports over any period keep their totals; only the per-event
-- audit trail (and the export) ends at the retention. Returns how many it deleted.
CREATE FUNCTION meridian_purge_usage_events(p_older_than interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_count bigint;
BEGIN
  IF p_older_than IS NULL OR p_older_than < interval '1 day' THEN
    RAISE EXCEPTION 'meridian_purge_usage_events: p_older_than must be at least a day'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  DELETE FROM usage_events WHERE occurred_at < now() - p_older_than;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;--> statement-breakpoint
ALTER FUNCTION meridian_purge_usage_events(interval) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_purge_usage_events(interval) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_purge_usage_events(interval) TO meridian_app;
