-- Tenants with at least one active remote MCP server, for the scheduled health check. Returns
-- ids only; the check itself runs per tenant inside that tenant's row-level security.
CREATE FUNCTION meridian_mcp_health_tenants(p_limit integer DEFAULT 10000)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT DISTINCT s.tenant_id
  FROM mcp_servers s
  JOIN tenants t ON t.id = s.tenant_id
  WHERE s.deleted_at IS NULL AND s.status = 'active'
    AND t.deleted_at IS NULL AND t.status = 'active'
  ORDER BY s.tenant_id
  LIMIT greatest(coalesce(p_limit, 0), 0)
$$;--> statement-breakpoint
ALTER FUNCTION meridian_mcp_health_tenants(integer) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_mcp_health_tenants(integer) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_mcp_health_tenants(integer) TO meridian_app;
