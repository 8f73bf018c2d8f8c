CREATE TABLE "usage_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"event_key" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"meter" text NOT NULL,
	"quantity" bigint NOT NULL,
	"unit" text NOT NULL,
	"cost_micro_usd" bigint DEFAULT 0 NOT NULL,
	"model" text,
	"agent_id" uuid,
	"resource_type" text,
	"resource_id" uuid,
	"user_id" uuid,
	"api_key_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_events_tenant_id_id_key" UNIQUE("tenant_id","id"),
	CONSTRAINT "usage_events_tenant_id_event_key_key" UNIQUE("tenant_id","event_key"),
	CONSTRAINT "usage_events_meter_check" CHECK ("usage_events"."meter" in ('model_input_tokens', 'model_output_tokens', 'model_cache_write_tokens', 'model_cache_read_tokens', 'embedding_tokens', 'chunks', 'tool_calls')),
	CONSTRAINT "usage_events_unit_check" CHECK ("usage_events"."unit" in ('tokens', 'chunks', 'calls')),
	CONSTRAINT "usage_events_quantity_check" CHECK ("usage_events"."quantity" >= 0),
	CONSTRAINT "usage_events_cost_check" CHECK ("usage_events"."cost_micro_usd" >= 0)
);
--> statement-breakpoint
ALTER TABLE "usage_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_events_tenant_id_occurred_at_idx" ON "usage_events" USING btree ("tenant_id","occurred_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "usage_events" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "usage_events" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
-- Row-level security, part two (see 0003_row_security.sql): FORCE so the table owner, and every
-- SECURITY DEFINER function it owns, passes only through owner_maintenance. Table privileges for
-- meridian_tenant come from 0003's default privileges.
ALTER TABLE "usage_events" FORCE ROW LEVEL SECURITY;
