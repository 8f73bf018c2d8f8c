-- ============================================================================================
-- The privileged path. THIS IS THE WHOLE OF IT.
--
-- Every other query the Worker runs goes through withTenant(): SET LOCAL ROLE meridian_tenant
-- plus app.tenant_id, with RLS forced on every table. The functions below are the only way to
-- read across tenants, and each exists because its caller cannot know the tenant yet (login,
-- API-key and refresh-token lookup, accepting an emailed token, resolving a slug) or must act on
-- all tenants (the purge job).
--
-- Rules for every function here:
--   * SECURITY DEFINER, owned by meridian_owner, which passes RLS only through the
--     owner_maintenance policies (FORCE ROW LEVEL SECURITY is on);
--   * SET search_path = public, pg_temp, so a caller cannot shadow a table or operator;
--   * EXECUTE revoked from PUBLIC and granted to meridian_app alone (not to meridian_tenant, so
--     code inside a tenant transaction cannot reach them);
--   * lookups take an exact key (hash, slug + email) and return one row's few columns, never a
--     list, and nothing for a soft-deleted tenant.
-- Adding a function here is a security review, not a refactor; it must also be added to
-- docs/data-model.md ("Privileged path").
-- ============================================================================================

CREATE FUNCTION meridian_auth_user(p_tenant_slug text, p_email text)
RETURNS TABLE (tenant_id uuid, tenant_status text, user_id uuid, password_hash text, role text, status text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT t.id, t.status, u.id, u.password_hash, u.role, u.status
  FROM tenants t
  JOIN users u ON u.tenant_id = t.id
  WHERE t.slug = lower(p_tenant_slug)
    AND t.deleted_at IS NULL
    AND u.email = lower(p_email)
    AND u.deleted_at IS NULL
$$;--> statement-breakpoint

-- Suspension is not filtered here: the caller reads the tenant row in tenant scope and answers
-- with a specific error instead of an unknown-key 401.
CREATE FUNCTION meridian_auth_api_key(p_key_hash text)
RETURNS TABLE (key_id uuid, tenant_id uuid, role text, expires_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT k.id, k.tenant_id, k.role, k.expires_at, k.revoked_at
  FROM api_keys k
  JOIN tenants t ON t.id = k.tenant_id
  WHERE k.key_hash = p_key_hash
    AND t.deleted_at IS NULL
$$;--> statement-breakpoint

-- Revoked sessions are returned on purpose: presenting a revoked refresh token is the signal of
-- token theft, and the caller then revokes the user's other sessions.
CREATE FUNCTION meridian_auth_session(p_refresh_hash text)
RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, expires_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT s.id, s.tenant_id, s.user_id, s.expires_at, s.revoked_at
  FROM sessions s
  JOIN tenants t ON t.id = s.tenant_id
  JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
  WHERE s.refresh_hash = p_refresh_hash
    AND t.deleted_at IS NULL
    AND u.deleted_at IS NULL
$$;--> statement-breakpoint

-- Only (tenant_id, id): expiry, use and acceptance are checked by the caller inside withTenant,
-- where it can also update the row in the same transaction.
CREATE FUNCTION meridian_auth_token(p_kind text, p_token_hash text)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
  IF p_kind = 'invitation' THEN
    RETURN QUERY
      SELECT i.tenant_id, i.id
      FROM invitations i
      JOIN tenants t ON t.id = i.tenant_id
      WHERE i.token_hash = p_token_hash AND t.deleted_at IS NULL;
  ELSIF p_kind = 'password_reset' THEN
    RETURN QUERY
      SELECT r.tenant_id, r.id
      FROM password_resets r
      JOIN tenants t ON t.id = r.tenant_id
      WHERE r.token_hash = p_token_hash AND t.deleted_at IS NULL;
  ELSE
    RAISE EXCEPTION 'meridian_auth_token: unknown kind %', p_kind USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;--> statement-breakpoint

CREATE FUNCTION meridian_tenant_by_slug(p_slug text)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT t.id FROM tenants t WHERE t.slug = lower(p_slug) AND t.deleted_at IS NULL
$$;--> statement-breakpoint

-- The purge job. In order, so each count means something (a parent's cascade would otherwise
-- swallow its children's counts):
--   1. hard-deletes soft-deleted rows whose deleted_at is older than p_older_than, children
--      before parents, tenants last (their delete cascades through every tenant table);
--   2. anonymises the audit rows of the tenants just deleted (actor_id, ip, changes nulled;
--      what happened, to which resource type and id, and when are kept);
--   3. deletes audit rows older than p_audit_retention whose tenant no longer exists;
--   4. deletes auth and idempotency rows that expired more than p_older_than ago (nothing else
--      can: they are cross-tenant).
CREATE FUNCTION meridian_purge_soft_deleted(p_older_than interval, p_audit_retention interval DEFAULT interval '1 year')
RETURNS TABLE (table_name text, purged bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_cutoff timestamptz := now() - p_older_than;
  v_table text;
  v_count bigint;
  v_tenant_ids uuid[];
BEGIN
  IF p_older_than IS NULL OR p_older_than < interval '0' THEN
    RAISE EXCEPTION 'meridian_purge_soft_deleted: p_older_than must be a non-negative interval'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  FOREACH v_table IN ARRAY ARRAY['documents', 'collections', 'conversations', 'agents', 'workflows', 'mcp_servers', 'users'] LOOP
    EXECUTE format('DELETE FROM %I WHERE deleted_at < $1', v_table) USING v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := v_table;
    purged := v_count;
    RETURN NEXT;
  END LOOP;

  WITH gone AS (DELETE FROM tenants WHERE deleted_at < v_cutoff RETURNING id)
  SELECT coalesce(array_agg(id), '{}') INTO v_tenant_ids FROM gone;
  table_name := 'tenants';
  purged := cardinality(v_tenant_ids);
  RETURN NEXT;

  UPDATE audit_logs
  SET actor_id = NULL, ip = NULL, changes = NULL
  WHERE tenant_id = ANY (v_tenant_ids);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'audit_logs (anonymised)';
  purged := v_count;
  RETURN NEXT;

  DELETE FROM audit_logs a
  WHERE a.created_at < now() - p_audit_retention
    AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'audit_logs';
  purged := v_count;
  RETURN NEXT;

  DELETE FROM idempotency_keys WHERE expires_at < now();
  GET DIAGNOSTICS v_count = ROW_COUNT;
  table_name := 'idempotency_keys';
  purged := v_count;
  RETURN NEXT;

  FOREACH v_table IN ARRAY ARRAY['sessions', 'invitations', 'password_resets'] LOOP
    EXECUTE format('DELETE FROM %I WHERE expires_at < $1', v_table) USING v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := v_table;
    purged := v_count;
    RETURN NEXT;
  END LOOP;
END
$$;--> statement-breakpoint

-- Ownership is explicit so the functions stay owned by meridian_owner even when a superuser
-- applies the migrations by hand.
ALTER FUNCTION meridian_auth_user(text, text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_auth_api_key(text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_auth_session(text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_auth_token(text, text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_tenant_by_slug(text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_purge_soft_deleted(interval, interval) OWNER TO meridian_owner;--> statement-breakpoint

REVOKE ALL ON FUNCTION meridian_auth_user(text, text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_auth_api_key(text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_auth_session(text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_auth_token(text, text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_tenant_by_slug(text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_purge_soft_deleted(interval, interval) FROM PUBLIC;--> statement-breakpoint

GRANT EXECUTE ON FUNCTION meridian_auth_user(text, text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_auth_api_key(text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_auth_session(text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_auth_token(text, text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_tenant_by_slug(text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_purge_soft_deleted(interval, interval) TO meridian_app;
