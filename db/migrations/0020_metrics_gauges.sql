-- The gauges /metrics reads from PostgreSQL at scrape time, summed over all tenants: documents
-- by ingestion status (the backlog and the dead letters: Workers have no queue-depth API),
-- workflow executions by status, and live remote MCP servers by last health. Counts only, no
-- ids, so the privileged path hands the scrape nothing it could leak.
CREATE FUNCTION meridian_metrics_gauges()
RETURNS TABLE (metric text, label text, value bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT 'meridian_documents', d.status, count(*)
  FROM documents d
  WHERE d.deleted_at IS NULL
  GROUP BY d.status
  UNION ALL
  SELECT 'meridian_workflow_executions', e.status, count(*)
  FROM workflow_executions e
  GROUP BY e.status
  UNION ALL
  SELECT 'meridian_mcp_servers', coalesce(r.health_status, 'unknown'), count(*)
  FROM mcp_servers s
  LEFT JOIN mcp_server_registry r ON r.tenant_id = s.tenant_id AND r.server_id = s.id
  WHERE s.deleted_at IS NULL
  GROUP BY coalesce(r.health_status, 'unknown')
$$;--> statement-breakpoint
ALTER FUNCTION meridian_metrics_gauges() OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_metrics_gauges() FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_metrics_gauges() TO meridian_app;
