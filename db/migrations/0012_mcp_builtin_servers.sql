CREATE TABLE "mcp_files" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"path" text NOT NULL,
	"kind" text NOT NULL,
	"content" text,
	"size_bytes" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_files_tenant_id_id_key" UNIQUE("tenant_id","id"),
	CONSTRAINT "mcp_files_tenant_id_path_key" UNIQUE("tenant_id","path"),
	CONSTRAINT "mcp_files_kind_check" CHECK ("mcp_files"."kind" in ('file', 'directory'))
);
--> statement-breakpoint
ALTER TABLE "mcp_files" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ALTER COLUMN "server_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD COLUMN "source" text DEFAULT 'remote' NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD COLUMN "server_name" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD COLUMN "run_id" uuid;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD COLUMN "input_bytes" integer;--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD COLUMN "output_bytes" integer;--> statement-breakpoint
ALTER TABLE "mcp_files" ADD CONSTRAINT "mcp_files_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mcp_tool_executions_tenant_id_server_name_id_idx" ON "mcp_tool_executions" USING btree ("tenant_id","server_name","id");--> statement-breakpoint
ALTER TABLE "mcp_tool_executions" ADD CONSTRAINT "mcp_tool_executions_source_check" CHECK ("mcp_tool_executions"."source" in ('builtin', 'remote'));--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "mcp_files" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "mcp_files" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);