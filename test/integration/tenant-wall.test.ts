import { env } from "cloudflare:workers";
import type { Client } from "@neondatabase/serverless";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { withTenant } from "../../db/tenant";
import type { AgentResponse } from "../../workers/routes/agents/schemas";
import { api } from "../harness/api";
import { createTenant } from "../harness/fixtures";

/**
 * The database's own wall, proven from below the API: the Worker's login role with RLS forced,
 * as a route would reach it, and as a careless query would.
 */
const config = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };
const open: Client[] = [];

async function appConnection(): Promise<Client> {
  const client = await connect(config);
  open.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end()));
});

async function tenantTables(client: Client): Promise<string[]> {
  const { rows } = await client.query(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity and c.relforcerowsecurity
      order by 1`,
  );
  return rows.map((r) => String(r.relname));
}

async function seedTwoTenants() {
  const a = await createTenant();
  const b = await createTenant();
  const body = { name: "x", model: "claude-sonnet-4-6" };
  const agentA = await api.post<AgentResponse>("/v1/agents", { token: a.token, body });
  await api.post("/v1/agents", { token: b.token, body });
  return { a, b, agentA: agentA.body };
}

describe("tenant wall in PostgreSQL", () => {
  it("forces RLS on every table of the schema (29 and counting)", async () => {
    const client = await appConnection();
    const { rows } = await client.query(
      `select c.relname, c.relrowsecurity as rls, c.relforcerowsecurity as forced
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and c.relname <> '__drizzle_migrations'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(29);
    expect(rows.filter((r) => !r.rls || !r.forced).map((r) => r.relname)).toEqual([]);
  });

  it("the login role alone can read no table at all", async () => {
    await seedTwoTenants();
    const client = await appConnection();
    await expect(client.query("select count(*) from agents")).rejects.toThrow(/permission denied/);
    await expect(client.query("select count(*) from users")).rejects.toThrow(/permission denied/);
  });

  it("the app role without a tenant setting sees zero rows in every table", async () => {
    await seedTwoTenants();
    const client = await appConnection();
    const tables = await tenantTables(client);
    await client.query("begin; set local role meridian_tenant");
    try {
      for (const table of tables) {
        const { rows } = await client.query(`select count(*)::int as n from ${table}`);
        expect(rows[0]?.n, table).toBe(0);
      }
    } finally {
      await client.query("rollback");
    }
  });

  it("a tenant transaction sees only its own rows and cannot write another tenant's", async () => {
    const { a, b, agentA } = await seedTwoTenants();
    const client = await appConnection();
    const tables = await tenantTables(client);
    await withTenant(client, a.tenant.id, async () => {
      for (const table of tables) {
        const column = table === "tenants" ? "id" : "tenant_id";
        const { rows } = await client.query(`select count(*)::int as n from ${table} where ${column} <> $1`, [
          a.tenant.id,
        ]);
        expect(rows[0]?.n, table).toBe(0);
      }
      const { rows } = await client.query("select id from agents");
      expect(rows.map((r: { id: string }) => r.id)).toEqual([agentA.id]);
    });
    await expect(
      withTenant(client, a.tenant.id, () =>
        client.query(
          "insert into agents (id, tenant_id, name, model) values (gen_random_uuid(), $1, 'intruder', 'm')",
          [b.tenant.id],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
    const moved = await withTenant(client, a.tenant.id, () =>
      client.query("update agents set tenant_id = $1", [b.tenant.id]).catch((e: Error) => e),
    );
    expect(moved).toBeInstanceOf(Error);
    const hidden = await withTenant(client, a.tenant.id, () =>
      client.query("delete from agents where tenant_id = $1", [b.tenant.id]),
    );
    expect(hidden.rowCount).toBe(0);
  });

  it("the tenant setting does not outlive its transaction", async () => {
    const { a } = await seedTwoTenants();
    const client = await appConnection();
    await withTenant(client, a.tenant.id, async () => undefined);
    await client.query("begin; set local role meridian_tenant");
    const { rows } = await client.query("select count(*)::int as n from agents");
    await client.query("rollback");
    expect(rows[0]?.n).toBe(0);
  });
});

describe("the privileged path", () => {
  it("answers only the one question each function is for", async () => {
    const { a, b } = await seedTwoTenants();
    const client = await appConnection();
    const user = await client.query("select * from meridian_auth_user($1, $2)", [
      a.tenant.slug,
      a.owner.email,
    ]);
    expect(user.rows).toHaveLength(1);
    expect(Object.keys(user.rows[0] ?? {}).sort()).toEqual(
      ["password_hash", "role", "status", "tenant_id", "tenant_status", "user_id"].sort(),
    );
    // The right email under the wrong tenant finds nothing.
    expect(
      (await client.query("select * from meridian_auth_user($1, $2)", [b.tenant.slug, a.owner.email])).rows,
    ).toEqual([]);
    expect((await client.query("select * from meridian_auth_api_key($1)", ["0".repeat(64)])).rows).toEqual(
      [],
    );
    expect((await client.query("select * from meridian_auth_session($1)", ["0".repeat(64)])).rows).toEqual(
      [],
    );
    expect(
      (await client.query("select * from meridian_auth_token('invitation', $1)", ["0".repeat(64)])).rows,
    ).toEqual([]);
  });

  it("is closed to the tenant role and to unknown token kinds", async () => {
    const client = await appConnection();
    await client.query("begin; set local role meridian_tenant");
    await expect(client.query("select * from meridian_auth_api_key('x')")).rejects.toThrow(
      /permission denied/,
    );
    await client.query("rollback");
    await expect(client.query("select * from meridian_auth_token('session', 'x')")).rejects.toThrow();
  });
});
