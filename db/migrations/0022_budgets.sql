CREATE TABLE "budget_periods" (
	"tenant_id" uuid NOT NULL,
	"period" date NOT NULL,
	"spent_tokens" bigint DEFAULT 0 NOT NULL,
	"spent_micro_usd" bigint DEFAULT 0 NOT NULL,
	"reserved_tokens" bigint DEFAULT 0 NOT NULL,
	"reserved_micro_usd" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_periods_pkey" PRIMARY KEY("tenant_id","period"),
	CONSTRAINT "budget_periods_amounts_check" CHECK ("budget_periods"."spent_tokens" >= 0 and "budget_periods"."spent_micro_usd" >= 0 and "budget_periods"."reserved_tokens" >= 0 and "budget_periods"."reserved_micro_usd" >= 0)
);
--> statement-breakpoint
ALTER TABLE "budget_periods" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "budget_reservations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"period" date NOT NULL,
	"tokens" bigint NOT NULL,
	"micro_usd" bigint NOT NULL,
	"run_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_reservations_tenant_id_id_key" UNIQUE("tenant_id","id"),
	CONSTRAINT "budget_reservations_amounts_check" CHECK ("budget_reservations"."tokens" >= 0 and "budget_reservations"."micro_usd" >= 0)
);
--> statement-breakpoint
ALTER TABLE "budget_reservations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "budget_periods" ADD CONSTRAINT "budget_periods_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budget_reservations" ADD CONSTRAINT "budget_reservations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "budget_reservations_expires_at_idx" ON "budget_reservations" USING btree ("expires_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "budget_periods" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "budget_periods" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "budget_reservations" AS PERMISSIVE FOR ALL TO "meridian_tenant" USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "owner_maintenance" ON "budget_reservations" AS PERMISSIVE FOR ALL TO "meridian_owner" USING (true) WITH CHECK (true);--> statement-breakpoint
-- Row-level security, part two (see 0003_row_security.sql): FORCE so the table owner, and every
-- SECURITY DEFINER function it owns, passes only through owner_maintenance.
ALTER TABLE "budget_periods" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "budget_reservations" FORCE ROW LEVEL SECURITY;--> statement-breakpoint

-- Returns the holds of model calls whose run was lost mid-call (the hold outlived its call's
-- deadline) to their budget periods. Cross-tenant, for the housekeeping cron; it returns how
-- many holds it released, nothing about whose.
CREATE FUNCTION meridian_release_expired_reservations()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  WITH expired AS (
    DELETE FROM budget_reservations WHERE expires_at < now()
    RETURNING tenant_id, period, tokens, micro_usd
  ), per_period AS (
    SELECT tenant_id, period, sum(tokens) AS tokens, sum(micro_usd) AS micro_usd, count(*) AS holds
    FROM expired GROUP BY tenant_id, period
  ), released AS (
    UPDATE budget_periods b
    SET reserved_tokens = greatest(0, b.reserved_tokens - p.tokens),
        reserved_micro_usd = greatest(0, b.reserved_micro_usd - p.micro_usd),
        updated_at = now()
    FROM per_period p
    WHERE b.tenant_id = p.tenant_id AND b.period = p.period
  )
  SELECT coalesce(sum(holds), 0)::bigint FROM per_period
$$;--> statement-breakpoint
ALTER FUNCTION meridian_release_expired_reservations() OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_release_expired_reservations() FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_release_expired_reservations() TO meridian_app;
