import { env } from "cloudflare:workers";
import type { Client } from "@neondatabase/serverless";
import { eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createTenant } from "../test/harness/fixtures";
import { recordStatements } from "../test/harness/recorded-statements";
import { connect } from "./client";
import { agents } from "./schema/agents";
import { commitWithoutFlush, sendTogether, tenantStatement, withTenant, writeAtCommit } from "./tenant";

const config = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };
const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end()));
});

/** An app connection whose statements are counted (each `query` call is one round trip). */
async function countedConnection() {
  const client = await connect(config);
  open.push(client);
  const sent = recordStatements(client);
  return { client, sent };
}

const setting = async (client: Client, name: string) =>
  String((await client.query("select current_setting($1, true) as v", [name])).rows[0]?.v ?? "");

describe("withTenant settings", () => {
  it("sets them in the opening round trip, for the transaction only", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    const before = await setting(client, "hnsw.ef_search");
    sent.length = 0;
    const inside = await withTenant(
      client,
      tenant.id,
      async (db) => ({ settings: db.settings, efSearch: await setting(client, "hnsw.ef_search") }),
      { settings: { "hnsw.ef_search": "123", "hnsw.iterative_scan": "relaxed_order" } },
    );
    expect(inside).toEqual({
      settings: { "hnsw.ef_search": "123", "hnsw.iterative_scan": "relaxed_order" },
      efSearch: "123",
    });
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/^BEGIN; SELECT set_config\('hnsw.ef_search', '123', true\)/);
    expect(await setting(client, "hnsw.ef_search")).toBe(before);
  });

  it("cannot change the tenant or the role the transaction runs as", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { client } = await countedConnection();
    const seen = await withTenant(
      client,
      a.tenant.id,
      async () => ({ tenant: await setting(client, "app.tenant_id"), role: await setting(client, "role") }),
      { settings: { "app.tenant_id": b.tenant.id, role: "none" } },
    );
    expect(seen).toEqual({ tenant: a.tenant.id, role: "meridian_tenant" });
  });

  it("refuses, before sending anything, a name or value that could break out of its quotes", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    const refused: Record<string, string>[] = [
      { "hnsw.ef_search'); drop table tenants; --": "1" },
      { "hnsw.ef_search": "1', true); drop table tenants; --" },
      { "hnsw.ef_search": "1 2" },
      { "hnsw.ef_search": "1\\" },
    ];
    for (const settings of refused) {
      await expect(withTenant(client, tenant.id, async () => undefined, { settings })).rejects.toThrow(
        /refused/,
      );
    }
    expect(sent).toEqual([]);
  });

  it("sends the same opening as before without settings", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    const state = await withTenant(client, tenant.id, async (db, s) => ({ settings: db.settings, ...s }));
    expect(state).toEqual({ settings: undefined, tenantActive: true });
    expect(sent[0]).toBe(
      `BEGIN; SET LOCAL ROLE meridian_tenant; SELECT set_config('app.tenant_id', '${tenant.id}', true); ` +
        `SELECT status FROM tenants WHERE id = '${tenant.id}' AND deleted_at IS NULL`,
    );
  });
});

describe("tenantStatement", () => {
  const newAgent = (client: Client, tenantId: string, name: string) =>
    tenantStatement(client, tenantId, (db) =>
      db.insert(agents).values({ tenantId, name, model: "claude-sonnet-4-5" }).returning({ id: agents.id }),
    );

  it("runs one statement in a tenant transaction of its own, opened and committed in the same round trip", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    const name = 'it\'s "quoted"; drop table agents; --';
    const [row] = await newAgent(client, tenant.id, name);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(
      /^BEGIN; SET LOCAL ROLE meridian_tenant; SELECT set_config\('app\.tenant_id', '[0-9a-f-]+', true\); insert into "agents" .*; COMMIT$/s,
    );
    // Committed, with the value inlined intact, and the connection back to the app role, which
    // may not read tenant tables at all outside a tenant transaction.
    await expect(client.query("select name from agents where id = $1", [row?.id])).rejects.toThrow(
      /permission denied/,
    );
    const seen = await withTenant(client, tenant.id, (db) =>
      db
        .select({ name: agents.name })
        .from(agents)
        .where(eq(agents.id, String(row?.id))),
    );
    expect(seen).toEqual([{ name }]);
  });

  it("is held by the tenant wall: another tenant's rows are neither seen nor changed", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { client } = await countedConnection();
    const [agent] = await newAgent(client, a.tenant.id, "a's agent");
    const renamed = await tenantStatement(client, b.tenant.id, (db) =>
      db
        .update(agents)
        .set({ name: "taken" })
        .where(eq(agents.id, String(agent?.id)))
        .returning({ id: agents.id }),
    );
    expect(renamed).toEqual([]);
    const read = await tenantStatement(client, b.tenant.id, (db) =>
      db.select({ id: agents.id }).from(agents),
    );
    expect(read).toEqual([]);
    const kept = await withTenant(client, a.tenant.id, (db) =>
      db
        .select({ name: agents.name })
        .from(agents)
        .where(eq(agents.id, String(agent?.id))),
    );
    expect(kept).toEqual([{ name: "a's agent" }]);
  });

  it("refuses a NUL character before sending, with the code PostgreSQL gives a bound one", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    await expect(newAgent(client, tenant.id, "cut\u0000short")).rejects.toMatchObject({ code: "22021" });
    expect(sent).toEqual([]);
  });

  it("rolls back a statement that fails, and the connection goes on", async () => {
    const { tenant } = await createTenant();
    const { client } = await countedConnection();
    await expect(
      tenantStatement(client, tenant.id, (db) =>
        db.insert(agents).values({ tenantId: tenant.id, name: null as unknown as string, model: "m" }),
      ),
    ).rejects.toThrow(/null value/);
    const [row] = await newAgent(client, tenant.id, "after the failure");
    expect(row?.id).toEqual(expect.any(String));
  });
});

describe("writeAtCommit", () => {
  const agentNamed = (tenantId: string, name: string) => ({ tenantId, name, model: "claude-sonnet-4-5" });
  const namesOf = (client: Client, tenantId: string) =>
    withTenant(client, tenantId, async (db) =>
      (await db.select({ name: agents.name }).from(agents)).map((a) => a.name).sort(),
    );

  it("sends the queued writes, in order, in the COMMIT's round trip", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    const quoted = "it's queued; drop table agents; --";
    await withTenant(client, tenant.id, async (db) => {
      await db.insert(agents).values(agentNamed(tenant.id, "awaited"));
      writeAtCommit(db, db.insert(agents).values(agentNamed(tenant.id, quoted)));
      writeAtCommit(db, db.update(agents).set({ description: "second" }).where(eq(agents.name, quoted)));
    });
    expect(sent).toHaveLength(3);
    expect(sent[2]).toMatch(/^insert into "agents" .*; update "agents" .*; COMMIT$/s);
    const rows = await withTenant(client, tenant.id, (db) =>
      db.select({ name: agents.name, description: agents.description }).from(agents),
    );
    expect(rows.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: "awaited", description: null },
      { name: quoted, description: "second" },
    ]);
  });

  it("sends nothing queued when the transaction's work throws", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    await expect(
      withTenant(client, tenant.id, async (db) => {
        writeAtCommit(db, db.insert(agents).values(agentNamed(tenant.id, "never")));
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    expect(sent.some((text) => text.includes("never"))).toBe(false);
    expect(await namesOf(client, tenant.id)).toEqual([]);
  });

  it("rolls the whole transaction back when a queued write fails, and the connection goes on", async () => {
    const { tenant } = await createTenant();
    const { client } = await countedConnection();
    await expect(
      withTenant(client, tenant.id, async (db) => {
        await db.insert(agents).values(agentNamed(tenant.id, "awaited"));
        writeAtCommit(
          db,
          db.insert(agents).values({ ...agentNamed(tenant.id, "x"), name: null as unknown as string }),
        );
      }),
    ).rejects.toThrow(/null value/);
    expect(await namesOf(client, tenant.id)).toEqual([]);
  });

  it("runs the queued writes behind the tenant wall", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { client } = await countedConnection();
    await expect(
      withTenant(client, a.tenant.id, async (db) => {
        writeAtCommit(db, db.insert(agents).values(agentNamed(b.tenant.id, "planted")));
      }),
    ).rejects.toThrow(/row-level security/);
    expect(await namesOf(client, b.tenant.id)).toEqual([]);
  });

  it("commits without waiting for the flush when asked, for that transaction only", async () => {
    const { tenant } = await createTenant();
    const { client, sent } = await countedConnection();
    await withTenant(client, tenant.id, async (db) => {
      commitWithoutFlush(db);
      writeAtCommit(db, db.insert(agents).values(agentNamed(tenant.id, "logged")));
    });
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatch(/^SET LOCAL synchronous_commit = off; insert into "agents" .*; COMMIT$/s);
    expect(await namesOf(client, tenant.id)).toEqual(["logged"]);
    expect(await setting(client, "synchronous_commit")).toBe("on");
  });

  it("is refused in a read-only transaction and once the transaction is over", async () => {
    const { tenant } = await createTenant();
    const { client } = await countedConnection();
    await expect(
      withTenant(
        client,
        tenant.id,
        async (db) => writeAtCommit(db, db.insert(agents).values(agentNamed(tenant.id, "read only"))),
        { readOnly: true },
      ),
    ).rejects.toThrow(/read-write withTenant transaction/);
    await expect(
      withTenant(client, tenant.id, async (db) => commitWithoutFlush(db), { readOnly: true }),
    ).rejects.toThrow(/read-write withTenant transaction/);
    const finished = await withTenant(client, tenant.id, async (db) => db);
    expect(() =>
      writeAtCommit(finished, finished.insert(agents).values(agentNamed(tenant.id, "late"))),
    ).toThrow(/read-write withTenant transaction/);
    expect(await namesOf(client, tenant.id)).toEqual([]);
  });
});

describe("sendTogether", () => {
  it("sends independent statements in one round trip and returns each one's rows, behind the tenant wall", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { client, sent } = await countedConnection();
    await withTenant(client, b.tenant.id, (db) =>
      db.insert(agents).values({ tenantId: b.tenant.id, name: "b's agent", model: "m" }),
    );
    await withTenant(client, a.tenant.id, (db) =>
      db.insert(agents).values({ tenantId: a.tenant.id, name: "it's a's", model: "m" }),
    );
    sent.length = 0;
    const results = await withTenant(client, a.tenant.id, async (db) => ({
      both: await sendTogether(db, [
        sql`select set_config('hnsw.ef_search', '77', true) as ef`,
        db.select({ name: agents.name }).from(agents).where(eq(agents.model, "m")),
      ]),
      one: await sendTogether(db, [sql`select current_setting('hnsw.ef_search') as ef`]),
    }));
    expect(results).toEqual({ both: [[{ ef: "77" }], [{ name: "it's a's" }]], one: [[{ ef: "77" }]] });
    expect(sent).toHaveLength(4); // the opening, each sendTogether, the COMMIT
  });
});
