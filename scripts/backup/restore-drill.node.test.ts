import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../workers/lib/ids.ts";
import { type FakeS3Server, startFakeS3Server } from "../local-stack/fake-s3-server.ts";
import { type LocalStack, startLocalStack } from "../local-stack/index.ts";
import { isReachable, superuserUrl } from "../local-stack/postgres.ts";
import { backupKeys } from "./backup-keys.ts";
import { type BackupResult, createBackup } from "./create-backup.ts";
import { countInTransaction, dropDatabase, runRestoreDrill } from "./drill.ts";
import { runPgProgram } from "./pg-tools.ts";
import { compareCounts, HiddenRowsError, rowSecurityMode } from "./row-counts.ts";
import { getObjectText, listObjects, putObjectText, S3Error, type S3Location } from "./s3.ts";

/**
 * End to end against the machine's PostgreSQL and pg_dump/pg_restore: a migrated database with
 * several tenants' rows is dumped into a fake S3 server (the S3 REST protocol, SigV4 checked),
 * retention prunes it, and the drill restores into scratch databases and compares row counts.
 * The database is its own (`<test database>_drill_src`), recreated each run, so the exact counts
 * below hold whatever else runs.
 */

const run = promisify(execFile);
const adminUrl = process.env.DATABASE_URL ?? superuserUrl();
const sourceDatabase = `${process.env.MERIDIAN_TEST_DATABASE ?? "meridian_test"}_drill_src`;
const prefix = `drill/${newId().slice(-12)}`;
const serverMissing = !(await isReachable(adminUrl)) || !(await hasPgTools());
const T0 = new Date();
const daysBefore = (days: number) => new Date(T0.getTime() - days * 86_400_000);

async function hasPgTools(): Promise<boolean> {
  try {
    await runPgProgram("pg_dump", ["--version"]);
    await runPgProgram("pg_restore", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(serverMissing)(
  serverMissing
    ? "backup and restore drill [skipped: needs a PostgreSQL server and pg_dump]"
    : "backup and restore drill",
  () => {
    let stack: LocalStack;
    let s3: FakeS3Server;
    let location: S3Location;
    let owner: pg.Client;
    const backups: BackupResult[] = [];

    beforeAll(async () => {
      await dropDatabase(adminUrl, sourceDatabase);
      stack = await startLocalStack({ database: sourceDatabase, requireServers: true });
      owner = new pg.Client({ connectionString: stack.ownerUrl });
      await owner.connect();
      // A page size of 2 makes every listing follow ListObjectsV2 continuation tokens.
      s3 = await startFakeS3Server({ maxKeys: 2 });
      location = {
        endpoint: s3.url,
        bucket: "meridian-backups",
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      };
      for (const slug of ["alpha", "bravo", "charlie"]) await seedTenant(owner, slug, 2);
    });

    afterAll(async () => {
      await owner?.end();
      await s3?.close();
      await stack?.close();
      await dropDatabase(adminUrl, sourceDatabase).catch(() => undefined);
    });

    const backup = async (now: Date, keep = 2) => {
      const result = await createBackup({
        databaseUrl: stack.ownerUrl,
        location,
        prefix,
        retention: { keep },
        now,
      });
      backups.push(result);
      return result;
    };

    it("dumps as the owner through its policies, uploads signed, and retention keeps the newest", async () => {
      await putObjectText(
        location,
        `${prefix}/README.txt`,
        "not a backup: retention leaves it alone",
        "text/plain",
      );
      const first = await backup(daysBefore(3));
      await seedTenant(owner, "delta", 1);
      const second = await backup(daysBefore(2));
      await seedTenant(owner, "echo", 3);
      const third = await backup(daysBefore(1));

      // meridian_owner is under FORCE ROW LEVEL SECURITY and sees rows through owner_maintenance.
      expect(third.manifest.rowSecurity).toBe("owner-policies");
      expect(third.manifest.pgDumpVersion).toMatch(/^pg_dump \(PostgreSQL\) \d+\.\d+/);
      expect(first.manifest.rowCounts).toMatchObject({
        "public.tenants": 3,
        "public.agents": 6,
        "public.chunks": 6,
      });
      expect(second.manifest.rowCounts).toMatchObject({ "public.tenants": 4, "public.agents": 7 });
      expect(third.manifest.rowCounts).toMatchObject({ "public.tenants": 5, "public.agents": 10 });
      expect(third.manifest.rowCounts).toEqual(await countInTransaction(stack.ownerUrl));
      expect(third.manifest.rowCounts["drizzle.__drizzle_migrations"]).toBeGreaterThan(0);

      expect(first.deleted).toEqual([]);
      expect(second.deleted).toEqual([]);
      expect(third.deleted.map((b) => b.dump)).toEqual([first.manifest.dump]);
      const keys = (await listObjects(location, `${prefix}/`)).map((o) => o.key);
      expect(keys).toEqual(
        [
          `${prefix}/README.txt`,
          second.manifest.dump,
          backupKeys(prefix, daysBefore(2)).manifest,
          third.manifest.dump,
          backupKeys(prefix, daysBefore(1)).manifest,
        ].sort(),
      );

      const stored = s3.buckets.get("meridian-backups")?.get(third.manifest.dump);
      expect(stored?.body.length).toBe(third.manifest.bytes);
      expect(stored?.body.subarray(0, 5).toString("latin1")).toBe("PGDMP"); // pg_dump's custom format
      expect(JSON.parse(await getObjectText(location, backupKeys(prefix, daysBefore(1)).manifest))).toEqual(
        third.manifest,
      );
      // Every request was signed, was accepted, and listings went through continuation tokens.
      expect(s3.requests.length).toBeGreaterThan(10);
      for (const request of s3.requests) {
        expect(request.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/auto\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
        );
        expect(request.status).toBeLessThan(300);
      }
      expect(s3.requests.some((r) => r.url.includes("continuation-token="))).toBe(true);
    });

    it("restores the newest backup into a scratch database with every table's count intact, then drops it", async () => {
      const newest = backups.at(-1) as BackupResult;
      const result = await runRestoreDrill({ location, prefix, adminUrl });
      expect(result.manifest.dump).toBe(newest.manifest.dump);
      expect(result.ok).toBe(true);
      const tables = result.comparison.map((row) => row.table);
      expect(tables).toEqual(Object.keys(await countInTransaction(stack.ownerUrl)).sort());
      expect(tables).toEqual(
        expect.arrayContaining(["drizzle.__drizzle_migrations", "public.tenants", "public.chunks"]),
      );
      expect(result.comparison.find((row) => row.table === "public.messages")).toEqual({
        table: "public.messages",
        expected: 20,
        actual: 20,
        ok: true,
      });
      expect(await databaseExists(result.scratchDatabase)).toBe(false);
    });

    it("restores a named older backup and compares it with its own snapshot, not with today's rows", async () => {
      const second = backups[1] as BackupResult;
      const result = await runRestoreDrill({ location, prefix, adminUrl, key: second.manifest.dump });
      expect(result.ok).toBe(true);
      expect(result.comparison.find((row) => row.table === "public.tenants")).toMatchObject({
        expected: 4,
        actual: 4,
      });
      const live = await countInTransaction(stack.ownerUrl);
      expect(live["public.tenants"]).toBe(5);
    });

    it("reports a difference: a row missing from the restored copy", async () => {
      const result = await runRestoreDrill({ location, prefix, adminUrl, keep: true });
      try {
        expect(result.ok).toBe(true);
        expect(await databaseExists(result.scratchDatabase)).toBe(true);
        const scratch = new pg.Client({ connectionString: result.scratchUrl });
        await scratch.connect();
        try {
          await scratch.query(
            "delete from agent_versions where id = (select id from agent_versions limit 1)",
          );
        } finally {
          await scratch.end();
        }
        const comparison = compareCounts(
          result.manifest.rowCounts,
          await countInTransaction(result.scratchUrl),
        );
        const expected = result.manifest.rowCounts["public.agent_versions"] as number;
        expect(comparison.filter((row) => !row.ok)).toEqual([
          { table: "public.agent_versions", expected, actual: expected - 1, ok: false },
        ]);
      } finally {
        await dropDatabase(adminUrl, result.scratchDatabase);
      }
    });

    it("counts and dumps one snapshot: rows committed while pg_dump waits are in neither", async () => {
      let sneaked = "";
      const result = await createBackup({
        databaseUrl: stack.ownerUrl,
        location,
        prefix,
        retention: { keep: 10 },
        now: daysBefore(0.5),
        afterSnapshot: async () => {
          sneaked = await seedTenant(owner, "foxtrot", 1);
        },
      });
      expect(sneaked).not.toBe("");
      expect(result.manifest.rowCounts["public.tenants"]).toBe(5);
      expect((await countInTransaction(stack.ownerUrl))["public.tenants"]).toBe(6);
      const drill = await runRestoreDrill({ location, prefix, adminUrl, key: result.manifest.dump });
      expect(drill.ok).toBe(true);
      expect(drill.comparison.find((row) => row.table === "public.tenants")).toMatchObject({ actual: 5 });
    });

    it("runs as npm scripts: backup, then a passing drill, then a failing one on a manifest that disagrees", async () => {
      const env = {
        ...process.env,
        BACKUP_DATABASE_URL: stack.ownerUrl,
        RESTORE_ADMIN_URL: adminUrl,
        S3_ENDPOINT: s3.url,
        S3_BUCKET: location.bucket,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        BACKUP_PREFIX: prefix,
        BACKUP_KEEP: "10",
      };
      const tsx = (script: string, args: string[] = []) =>
        run(process.execPath, ["--import", "tsx", `scripts/backup/${script}`, ...args], { env });

      const made = await tsx("backup.ts");
      expect(made.stdout).toMatch(
        /^stored drill\/\S+\/meridian-\S+Z\.dump \(\d+ bytes, sha256 [0-9a-f]{64}\)$/m,
      );
      const passed = await tsx("restore-drill.ts");
      expect(passed.stdout).toMatch(/restore drill passed: \d+ tables match/);
      expect(passed.stdout).toMatch(/^public\.tenants\s+6\s+6\s+ok$/m);

      // The same dump under a newer key, with a manifest that claims one agent more.
      const newest = (await listObjects(location, `${prefix}/`))
        .map((o) => o.key)
        .filter((k) => k.endsWith(".json"))
        .at(-1) as string;
      const manifest = JSON.parse(await getObjectText(location, newest));
      const forged = backupKeys(prefix, new Date(Date.now() + 60_000));
      const bucket = s3.buckets.get(location.bucket);
      const dump = bucket?.get(manifest.dump);
      if (!bucket || !dump) throw new Error("the CLI's dump is not in the bucket");
      bucket.set(forged.dump, dump);
      manifest.dump = forged.dump;
      manifest.rowCounts["public.agents"] += 1;
      await putObjectText(location, forged.manifest, JSON.stringify(manifest));

      const failed = await tsx("restore-drill.ts", ["--key", forged.dump]).then(
        () => undefined,
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stdout).toMatch(/^public\.agents\s+\d+\s+\d+\s+DIFFERENT$/m);
      expect(failed?.stdout).toContain("restore drill FAILED: 1 of");
      expect(failed?.stdout).toMatch(/scratch database meridian_restore_drill_\w+ dropped/);
    });

    it("refuses a role that row-level security would hide rows from", async () => {
      const app = new pg.Client({ connectionString: stack.bindings.DATABASE_URL });
      await app.connect();
      try {
        const error = await rowSecurityMode(app).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(HiddenRowsError);
        expect((error as HiddenRowsError).tables).toEqual(
          expect.arrayContaining(["public.tenants", "public.agents"]),
        );
      } finally {
        await app.end();
      }
    });

    it("is refused by the store without a valid signature", async () => {
      const wrong = { ...location, secretAccessKey: "not-the-secret" };
      await expect(listObjects(wrong, `${prefix}/`)).rejects.toMatchObject({
        status: 403,
        code: "SignatureDoesNotMatch",
      });
      await expect(listObjects(wrong, `${prefix}/`)).rejects.toBeInstanceOf(S3Error);
      const unsigned = await fetch(`${s3.url}/meridian-backups?list-type=2`);
      expect(unsigned.status).toBe(403);
      expect(await unsigned.text()).toContain("<Code>AccessDenied</Code>");
    });
  },
);

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

/**
 * A tenant with rows in a dozen tables: users, an API key, `agents` agents (each with a version,
 * a conversation and two messages), a collection, a document and a chunk per agent (with a
 * 384-dimension embedding, so the restore rebuilds an HNSW index), a workflow and an audit entry.
 * Written as the owner, through its owner_maintenance policies, in one transaction.
 */
async function seedTenant(client: pg.Client, slug: string, agents: number): Promise<string> {
  const tenantId = newId();
  const embedding = `[${Array.from({ length: 384 }, (_, i) => ((i % 7) / 7).toFixed(3)).join(",")}]`;
  await client.query("begin");
  try {
    await client.query("insert into tenants (id, slug, name) values ($1, $2, $3)", [
      tenantId,
      `${slug}-${tenantId.slice(-8)}`,
      `Tenant ${slug}`,
    ]);
    await client.query(
      "insert into users (id, tenant_id, email, role, status) values ($1, $2, $3, 'owner', 'active')",
      [newId(), tenantId, `owner@${slug}.example`],
    );
    await client.query(
      "insert into api_keys (id, tenant_id, name, prefix, key_hash, role) values ($1, $2, 'ci', $3, $4, 'admin')",
      [newId(), tenantId, `mk_${tenantId.slice(-8)}`, `hash-${newId()}`],
    );
    const collectionId = newId();
    await client.query(
      `insert into collections (id, tenant_id, name, embedding_provider, embedding_model, embedding_dim)
       values ($1, $2, 'docs', 'local', 'local-hash-384', 384)`,
      [collectionId, tenantId],
    );
    for (let i = 0; i < agents; i++) {
      const agentId = newId();
      const conversationId = newId();
      const documentId = newId();
      await client.query(
        "insert into agents (id, tenant_id, name, model) values ($1, $2, $3, 'claude-sonnet-4-6')",
        [agentId, tenantId, `agent ${i}`],
      );
      await client.query(
        "insert into agent_versions (id, tenant_id, agent_id, version, name, model) values ($1, $2, $3, 1, $4, 'claude-sonnet-4-6')",
        [newId(), tenantId, agentId, `agent ${i}`],
      );
      await client.query("insert into conversations (id, tenant_id, agent_id) values ($1, $2, $3)", [
        conversationId,
        tenantId,
        agentId,
      ]);
      for (const [sequence, role] of [
        [1, "user"],
        [2, "assistant"],
      ] as const) {
        await client.query(
          "insert into messages (id, tenant_id, conversation_id, sequence, role, content) values ($1, $2, $3, $4, $5, $6)",
          [
            newId(),
            tenantId,
            conversationId,
            sequence,
            role,
            JSON.stringify([{ type: "text", text: `hello ${i}` }]),
          ],
        );
      }
      await client.query(
        "insert into documents (id, tenant_id, collection_id, content_hash, status) values ($1, $2, $3, $4, 'indexed')",
        [documentId, tenantId, collectionId, `sha256-${documentId}`],
      );
      await client.query(
        `insert into chunks (id, tenant_id, document_id, collection_id, ordinal, content, embedding, embedding_model, embedding_dim)
         values ($1, $2, $3, $4, 0, $5, $6, 'local-hash-384', 384)`,
        [newId(), tenantId, documentId, collectionId, `chunk of document ${i}`, embedding],
      );
    }
    await client.query(
      "insert into workflows (id, tenant_id, name, definition) values ($1, $2, 'flow', $3)",
      [newId(), tenantId, JSON.stringify({ steps: [] })],
    );
    await client.query(
      "insert into audit_logs (id, tenant_id, actor_type, action) values ($1, $2, 'system', 'tenant.create')",
      [newId(), tenantId],
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
  return tenantId;
}
