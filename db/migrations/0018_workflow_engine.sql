ALTER TABLE "workflow_executions" DROP CONSTRAINT "workflow_executions_status_check";--> statement-breakpoint
ALTER TABLE "workflow_step_executions" DROP CONSTRAINT "workflow_step_executions_status_check";--> statement-breakpoint
ALTER TABLE "workflow_step_executions" ADD COLUMN "step_type" text NOT NULL;--> statement-breakpoint
ALTER TABLE "workflow_step_executions" ADD COLUMN "sequence" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "workflow_executions_tenant_id_status_idx" ON "workflow_executions" USING btree ("tenant_id","status");--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD CONSTRAINT "workflow_executions_status_check" CHECK ("workflow_executions"."status" in ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));--> statement-breakpoint
ALTER TABLE "workflow_step_executions" ADD CONSTRAINT "workflow_step_executions_status_check" CHECK ("workflow_step_executions"."status" in ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));