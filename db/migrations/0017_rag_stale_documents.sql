-- Documents whose ingestion has not moved for `p_stale_after`, across tenants, for the
-- scheduled stale-work sweep. Returns ids and counters only; the sweep re-queues or fails each
-- document inside its tenant's row-level security.
CREATE FUNCTION meridian_rag_stale_documents(p_stale_after interval, p_limit integer DEFAULT 1000)
RETURNS TABLE (tenant_id uuid, document_id uuid, generation integer, status text, attempts integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT d.tenant_id, d.id, d.generation, d.status, d.attempts
  FROM documents d
  JOIN tenants t ON t.id = d.tenant_id
  WHERE d.status IN ('queued', 'parsing', 'chunking', 'embedding')
    AND d.status_changed_at < now() - p_stale_after
    AND d.deleted_at IS NULL
    AND t.deleted_at IS NULL AND t.status = 'active'
  ORDER BY d.status_changed_at
  LIMIT greatest(coalesce(p_limit, 0), 0)
$$;--> statement-breakpoint
ALTER FUNCTION meridian_rag_stale_documents(interval, integer) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_rag_stale_documents(interval, integer) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_rag_stale_documents(interval, integer) TO meridian_app;
