CREATE TABLE "usage_report_cursors" (
	"tenant_id" uuid NOT NULL,
	"reported_through" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_report_cursors_pkey" PRIMARY KEY("tenant_id"),
	CONSTRAINT "usage_report_cursors_hour_check" CHECK (extract(epoch from "usage_report_cursors"."reported_through") % 3600 = 0)
);
--> statement-breakpoint
ALTER TABLE "usage_report_cursors" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "usage_report_cursors" ADD CONSTRAINT "usage_report_cursors_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "usage_report_cursors" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "usage_report_cursors" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
-- Row-level security, part two (see 0003_row_security.sql).
ALTER TABLE "usage_report_cursors" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- Tenants (active, not deleted) with a billing webhook URL, for the hourly usage-rollup report,
-- a page at a time in id order after p_after (null: from the start), so no tenant is left out
-- however many there are. Returns ids only; each tenant's report runs under its own
-- row-level security.
CREATE FUNCTION meridian_billing_webhook_tenants(p_after uuid DEFAULT NULL, p_limit integer DEFAULT 1000)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT t.id
  FROM tenants t
  WHERE t.deleted_at IS NULL AND t.status = 'active'
    AND coalesce(t.settings->>'billingWebhookUrl', '') <> ''
    AND (p_after IS NULL OR t.id > p_after)
  ORDER BY t.id
  LIMIT greatest(coalesce(p_limit, 0), 0)
$$;--> statement-breakpoint
ALTER FUNCTION meridian_billing_webhook_tenants(uuid, integer) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_billing_webhook_tenants(uuid, integer) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_billing_webhook_tenants(uuid, integer) TO meridian_app;
