CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"url" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"next_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_tenant_id_id_key" UNIQUE("tenant_id","id"),
	CONSTRAINT "webhook_deliveries_tenant_id_event_id_key" UNIQUE("tenant_id","event_id"),
	CONSTRAINT "webhook_deliveries_status_check" CHECK ("webhook_deliveries"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_runs" DROP CONSTRAINT "agent_runs_status_check";--> statement-breakpoint
ALTER TABLE "tool_executions" DROP CONSTRAINT "tool_executions_status_check";--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "mode" text DEFAULT 'sync' NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "pending_approval" jsonb;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "task_id" uuid;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "created_by" uuid;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "agent_tasks" ADD COLUMN "run_id" uuid;--> statement-breakpoint
ALTER TABLE "agent_tasks" ADD COLUMN "conversation_id" uuid;--> statement-breakpoint
ALTER TABLE "agent_tasks" ADD COLUMN "callback_url" text;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE UNIQUE INDEX "agent_runs_tenant_id_idempotency_key_key" ON "agent_runs" USING btree ("tenant_id","created_by","idempotency_key") WHERE "agent_runs"."idempotency_key" is not null;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD CONSTRAINT "agent_runs_mode_check" CHECK ("agent_runs"."mode" in ('sync', 'stream', 'async'));--> statement-breakpoint
ALTER TABLE "agent_runs" ADD CONSTRAINT "agent_runs_status_check" CHECK ("agent_runs"."status" in ('queued', 'running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'));--> statement-breakpoint
ALTER TABLE "tool_executions" ADD CONSTRAINT "tool_executions_status_check" CHECK ("tool_executions"."status" in ('pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'denied', 'cancelled'));--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "webhook_deliveries" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "webhook_deliveries" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);