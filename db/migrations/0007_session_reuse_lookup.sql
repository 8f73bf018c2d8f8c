-- Refresh-token reuse detection. A rotation moves the old hash to previous_refresh_hash; a
-- lookup by that hash returns the session with reused = true, and the caller then ends every
-- session of the user (the token was copied: one of the two holders is not the user).
-- The return type changes, so the function is dropped and created again; its grants with it.
DROP FUNCTION meridian_auth_session(text);--> statement-breakpoint
CREATE FUNCTION meridian_auth_session(p_refresh_hash text)
RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, expires_at timestamptz, revoked_at timestamptz, reused boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT s.id, s.tenant_id, s.user_id, s.expires_at, s.revoked_at, s.refresh_hash <> p_refresh_hash
  FROM sessions s
  JOIN tenants t ON t.id = s.tenant_id
  JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
  WHERE (s.refresh_hash = p_refresh_hash OR s.previous_refresh_hash = p_refresh_hash)
    AND t.deleted_at IS NULL
    AND u.deleted_at IS NULL
$$;--> statement-breakpoint
ALTER FUNCTION meridian_auth_session(text) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_auth_session(text) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_auth_session(text) TO meridian_app;
