-- API-key authentication also records the key's last use. The lookup runs on every request
-- that presents a key, so the write rides along with it instead of costing a round trip of
-- its own, and it is skipped unless the stored value is a minute old: a busy key writes its
-- row at most once a minute. updated_at is left alone: a use is not an edit.
CREATE OR REPLACE FUNCTION meridian_auth_api_key(p_key_hash text)
RETURNS TABLE (key_id uuid, tenant_id uuid, role text, expires_at timestamptz, revoked_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE api_keys k
     SET last_used_at = now()
   WHERE k.key_hash = p_key_hash
     AND k.revoked_at IS NULL
     AND (k.expires_at IS NULL OR k.expires_at > now())
     AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
  RETURN QUERY
  SELECT k.id, k.tenant_id, k.role, k.expires_at, k.revoked_at
    FROM api_keys k
    JOIN tenants t ON t.id = k.tenant_id
   WHERE k.key_hash = p_key_hash
     AND t.deleted_at IS NULL;
END
$$;
