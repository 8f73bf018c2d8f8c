import pg from "pg";
import { mintApiKey } from "../../workers/auth/api-keys.ts";
import { hashPassword } from "../../workers/auth/passwords.ts";
import { newId } from "../../workers/lib/ids.ts";
import { type DevCredentials, savedCredentials, writeJson } from "./dev-files.ts";

const SLUG = "demo";
const ADMIN_EMAIL = "admin@demo.local";

/**
 * Seeds the demo tenant, its owner and an API key, once. Runs as the table owner (the
 * migration role), so it writes through the owner policy rather than a tenant transaction.
 * Credentials are kept in .meridian/dev-credentials.json; when they are lost, the password and
 * key are reissued.
 */
export async function seedDemo(ownerUrl: string, pepper: string): Promise<DevCredentials> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query("begin");
    const existing = await client.query<{ id: string }>("select id from tenants where slug = $1", [SLUG]);
    const saved = savedCredentials();
    if (existing.rows[0] && saved?.tenantId === existing.rows[0].id) {
      await client.query("rollback");
      return saved;
    }
    const tenantId = existing.rows[0]?.id ?? newId();
    const adminPassword = `demo-${crypto.randomUUID()}`;
    const passwordHash = await hashPassword(adminPassword, pepper);
    const key = await mintApiKey();
    if (!existing.rows[0]) {
      await client.query("insert into tenants (id, slug, name) values ($1, $2, $3)", [
        tenantId,
        SLUG,
        "Demo tenant",
      ]);
    }
    await client.query(
      `insert into users (id, tenant_id, email, name, password_hash, role, status)
       values ($1, $2, $3, 'Demo admin', $4, 'owner', 'active')
       on conflict (tenant_id, email) where deleted_at is null
       do update set password_hash = excluded.password_hash, status = 'active'`,
      [newId(), tenantId, ADMIN_EMAIL, passwordHash],
    );
    await client.query(
      "insert into api_keys (id, tenant_id, name, prefix, key_hash, role) values ($1, $2, 'demo key', $3, $4, 'admin')",
      [newId(), tenantId, key.prefix, key.hash],
    );
    await client.query("commit");
    const credentials = {
      tenantSlug: SLUG,
      tenantId,
      adminEmail: ADMIN_EMAIL,
      adminPassword,
      apiKey: key.plaintext,
    };
    writeJson("dev-credentials.json", credentials);
    return credentials;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
