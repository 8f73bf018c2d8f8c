import { env } from "cloudflare:workers";
import { type SQL, sql } from "drizzle-orm";
import { describe, expect, it, test } from "vitest";
import { connect } from "../../../db/client";
import { EMBEDDING_DIMS } from "../../../db/schema/rag";
import { type TenantDb, withTenant } from "../../../db/tenant";
import { createTenant } from "../../../test/harness/fixtures";
import { recordStatements } from "../../../test/harness/recorded-statements";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { localEmbeddings } from "../embed/local";
import { cosine } from "../embed/test-fixtures";
import { seedCollection, seedDocuments } from "./test-fixtures";
import { efSearchFor, vectorSearch, vectorSearchQuery, vectorSearchSettings } from "./vector-search";

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Subplan Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

async function plan(db: TenantDb, statement: SQL, analyze = false): Promise<PlanNode> {
  const explain = analyze ? sql`explain (analyze, format json) ` : sql`explain (format json) `;
  const { rows } = await db.execute<{ "QUERY PLAN": [{ Plan: PlanNode }] | string }>(
    sql.join([explain, statement]),
  );
  const raw = rows[0]?.["QUERY PLAN"];
  const doc = typeof raw === "string" ? (JSON.parse(raw) as [{ Plan: PlanNode }]) : raw;
  if (!doc?.[0]) throw new Error("EXPLAIN returned no plan");
  return doc[0].Plan;
}

function cte(root: PlanNode, name: string): PlanNode {
  const found = [...walk(root)].find((n) => n["Subplan Name"] === `CTE ${name}`);
  if (!found) throw new Error(`no CTE ${name} in the plan`);
  return found;
}

/**
 * The test database is small, so left alone the planner rightly prefers an exact scan of a few
 * rows; disabling the alternatives shows whether the index *can* serve the statement, which it
 * cannot when the ORDER BY expression or the partial-index predicate does not match.
 */
async function preferIndexScans(db: TenantDb) {
  await db.execute(sql`select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
    set_config('enable_sort', 'off', true)`);
}

describe("vectorSearchQuery", () => {
  test.each(EMBEDDING_DIMS)("orders by the %i-dimension HNSW index", async (dim) => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId, { dim });
    const vector = Array.from({ length: dim }, (_, i) => ((i % 7) - 3) / 10);
    const root = await withTenantDb(tenantId, async (db) => {
      await preferIndexScans(db);
      return plan(
        db,
        vectorSearchQuery(db, { collectionIds: [kb.id] }, { collectionIds: [kb.id], dim, vector }, 10),
      );
    });
    const indexes = [...walk(cte(root, "ann"))].map((n) => n["Index Name"]);
    expect(indexes).toContain(`chunks_embedding_${dim}_hnsw_idx`);
  });

  it("sizes the candidate list for the rows wanted", () => {
    expect([1, 10, 40, 50, 400].map(efSearchFor)).toEqual([40, 40, 160, 200, 1000]);
  });
});

describe("vectorSearch", () => {
  it("ranks exactly when the index scan gives up before finding enough rows", async () => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId);
    const near = Array.from({ length: 60 }, (_, i) => ({
      metadata: { team: "platform" },
      leaves: [
        { content: `Widget maintenance note ${i}: clean the widget filter and check the widget belt.` },
      ],
    }));
    const rare = Array.from({ length: 12 }, (_, i) => ({
      metadata: { team: "finance" },
      leaves: [{ content: `Memo ${i} on holiday schedules and ${"widget ".repeat(i % 4)}budgets.` }],
    }));
    const seeded = await seedDocuments(tenantId, kb, [...near, ...rare]);
    const query = "widget maintenance filter belt";
    const provider = localEmbeddings(384);
    const [vector] = (await provider.embed([query], "query")).vectors as [number[]];
    const rareTexts = rare.map((d) => d.leaves[0]?.content as string);
    const rareVectors = (await provider.embed(rareTexts, "document")).vectors;
    const expected = seeded
      .slice(60)
      .map((d, i) => ({ chunkId: d.leafIds[0] as string, score: cosine(vector, rareVectors[i] as number[]) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);

    const scope = { collectionIds: [kb.id], filter: { metadata: { team: "finance" } } };
    const group = { collectionIds: [kb.id], dim: 384 as const, vector };
    const { found, exact } = await withTenantDb(tenantId, async (db) => {
      await preferIndexScans(db);
      // An iterative scan that stops after one tuple: the first pass (ef_search nearest of every
      // tenant's chunks) is all the index returns.
      await db.execute(sql`select set_config('hnsw.max_scan_tuples', '1', true)`);
      const found = await vectorSearch(db, scope, [group], 10);
      const root = await plan(db, vectorSearchQuery(db, scope, group, 10), true);
      return { found, exact: cte(root, "exact") };
    });
    expect(exact["Actual Rows"]).toBe(12);
    expect(found.map((f) => f.chunkId).sort()).toEqual(expected.map((e) => e.chunkId).sort());
    found.forEach((f, i) => {
      expect(f.score).toBeCloseTo(expected[i]?.score as number, 5);
    });
  });

  it("does not run the exact ranking when the index scan finds enough rows", async () => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId);
    // A word of this run's own: the index keeps every earlier run's chunks too, and these must
    // stay the nearest to the query however many there are.
    const word = `zq${crypto.randomUUID().slice(0, 8)}`;
    await seedDocuments(
      tenantId,
      kb,
      Array.from({ length: 20 }, (_, i) => ({
        leaves: [{ content: `Runbook ${word} step ${i}: restart.` }],
      })),
    );
    const [vector] = (await localEmbeddings(384).embed([`${word} restart`], "query")).vectors as [number[]];
    const scope = { collectionIds: [kb.id] };
    const group = { collectionIds: [kb.id], dim: 384 as const, vector };
    const { found, exact } = await withTenantDb(tenantId, async (db) => {
      await preferIndexScans(db);
      const found = await vectorSearch(db, scope, [group], 10);
      return { found, exact: cte(await plan(db, vectorSearchQuery(db, scope, group, 10), true), "exact") };
    });
    expect(found).toHaveLength(10);
    expect(exact["Actual Rows"]).toBe(0);
  });

  it("sends its HNSW settings only when the transaction was not opened with them", async () => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId);
    await seedDocuments(tenantId, kb, [{ leaves: [{ content: "Rotate the signing key every quarter." }] }]);
    const [vector] = (await localEmbeddings(384).embed(["signing key"], "query")).vectors as [number[]];
    const scope = { collectionIds: [kb.id] };
    const group = { collectionIds: [kb.id], dim: 384 as const, vector };
    const client = await connect(env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string });
    const sent = recordStatements(client);
    const settingsSent = () => sent.filter((text) => text.startsWith("select set_config")).length;
    const efSearch = async (db: TenantDb) =>
      String(
        (await db.execute<{ ef: string }>(sql`select current_setting('hnsw.ef_search') as ef`)).rows[0]?.ef,
      );
    try {
      const unset = await withTenant(client, tenantId, async (db) => {
        const found = await vectorSearch(db, scope, [group], 10);
        return { found, ef: await efSearch(db) };
      });
      expect(settingsSent()).toBe(1);
      sent.length = 0;
      const preset = await withTenant(
        client,
        tenantId,
        async (db) => {
          const found = await vectorSearch(db, scope, [group], 10);
          const first = { found, ef: await efSearch(db) };
          // A later search for more rows in the same transaction sets its own ef_search.
          await vectorSearch(db, scope, [group], 50);
          return { first, wider: await efSearch(db) };
        },
        { settings: vectorSearchSettings(10) },
      );
      expect(preset.first).toEqual(unset);
      expect(unset.ef).toBe(String(efSearchFor(10)));
      expect(preset.wider).toBe(String(efSearchFor(50)));
      expect(settingsSent()).toBe(1);
    } finally {
      await client.end();
    }
  });
});
