import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import { describeOnServer } from "../../../test/harness/stack";
import { ToolError } from "../../server/types";
import { LIMITS } from "./limits";
import { withReadOnlySession } from "./session";
import { runStatement } from "./statement";
import { callTool, expectToolError, ownerUrl, putConnection, testConfig, withClient } from "./test-fixtures";
import { describeTable } from "./tools/describe-table";
import { listTables } from "./tools/list-tables";
import { type QueryResult, query } from "./tools/query";

/**
 * The read-only guarantees must hold on their own, not because a role lacks grants: these tests
 * point the tools at a role that COULD write (`meridian_owner`, owner of the test database and
 * of a throwaway schema made here) through a tenant secret, try every trick, and then check as
 * that owner that nothing changed.
 */
describeOnServer("a tenant database whose role can write", () => {
  const s = `dbtool_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  let tenantId: string;

  beforeAll(async () => {
    tenantId = (await createTenant()).tenant.id;
    await putConnection(tenantId, "SHOP_DB", ownerUrl());
    await withClient(ownerUrl(), (client) =>
      client.query(`
        CREATE SCHEMA ${s};
        CREATE TABLE ${s}.t (id serial PRIMARY KEY, v text NOT NULL);
        INSERT INTO ${s}.t (v) VALUES ('a'), ('b'), ('c');
        CREATE FUNCTION ${s}.bump() RETURNS int LANGUAGE sql AS $$ INSERT INTO ${s}.t (v) VALUES ('bumped') RETURNING id $$;
        CREATE PROCEDURE ${s}.commit_then_write() LANGUAGE plpgsql
          AS $$ BEGIN COMMIT; INSERT INTO ${s}.t (v) VALUES ('procedure'); END $$;
        CREATE MATERIALIZED VIEW ${s}.mv AS SELECT count(*) AS n FROM ${s}.t;
      `),
    );
  });

  afterAll(async () => {
    await withClient(ownerUrl(), (client) => client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
  });

  /** Everything a write could change, as the owner sees it outside any read-only transaction. */
  async function snapshot() {
    return withClient(ownerUrl(), async (client) => {
      const { rows } = await client.query(
        `SELECT (SELECT json_agg(t ORDER BY id) FROM ${s}.t) AS rows,
                (SELECT last_value::text || '/' || is_called FROM ${s}.t_id_seq) AS sequence,
                (SELECT n::int FROM ${s}.mv) AS mv,
                (SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relnamespace = $1::regnamespace) AS relations,
                (SELECT count(*)::int FROM pg_prepared_xacts) AS prepared`,
        [s],
      );
      return rows[0];
    });
  }

  it("reads the tenant's tables through the secret: query, list_tables, describe_table", async () => {
    const result = await callTool<QueryResult>(
      query,
      { sql: `select id, v from ${s}.t order by id`, connection: "SHOP_DB" },
      tenantId,
    );
    expect(result).toMatchObject({
      connection: "SHOP_DB",
      rows: [
        [1, "a"],
        [2, "b"],
        [3, "c"],
      ],
    });
    const tables = await callTool<{ tables: { name: string; type: string }[] }>(
      listTables,
      { schema: s, connection: "SHOP_DB" },
      tenantId,
    );
    expect(tables.tables.map((t) => [t.name, t.type])).toEqual([
      ["mv", "materialized view"],
      ["t", "table"],
    ]);
    const described = await callTool<{ primaryKey: string[]; columns: { default: string | null }[] }>(
      describeTable,
      { table: "t", schema: s, connection: "SHOP_DB" },
      tenantId,
    );
    expect(described.primaryKey).toEqual(["id"]);
    expect(described.columns[0]?.default).toBe(`nextval('${s}.t_id_seq'::regclass)`);
  });

  /** Each refused through the `query` tool, with the reason the caller sees. */
  const refused = (): [sql: string, reason: string][] => [
    [`COMMIT; DROP TABLE ${s}.t`, "transaction_control"],
    [`select 1; delete from ${s}.t`, "multiple_statements"],
    [`table ${s}.t; delete from ${s}.t`, "multiple_statements"],
    ["SET TRANSACTION READ WRITE", "not_a_query"],
    [`begin; delete from ${s}.t`, "transaction_control"],
    [`/* read */ -- only\n begin`, "transaction_control"],
    ["prepare transaction 'left_behind'", "transaction_control"],
    [`copy ${s}.t to program 'touch /tmp/meridian-pwned'`, "not_a_query"],
    [`do $$ begin delete from ${s}.t; end $$`, "not_a_query"],
    [`call ${s}.commit_then_write()`, "not_a_query"],
    ["select set_config('transaction_read_only', 'off', false)", "read_only"],
    [
      `with s as materialized (select set_config('default_transaction_read_only', 'off', false) as x)
       delete from ${s}.t where exists (select 1 from s)`,
      "read_only",
    ],
    [`with d as (delete from ${s}.t returning *) select count(*) from d`, "read_only"],
    [`with u as (update ${s}.t set v = 'x' returning *) select * from u`, "read_only"],
    [`with i as (insert into ${s}.t (v) values ('x') returning *) select * from i`, "read_only"],
    [`select * from ${s}.t for update`, "read_only"],
    [`select * from ${s}.t for share`, "read_only"],
    [`select nextval('${s}.t_id_seq')`, "read_only"],
    [`select setval('${s}.t_id_seq', 100)`, "read_only"],
    [`select ${s}.bump()`, "read_only"],
    [`values (${s}.bump())`, "read_only"],
    [`explain analyze delete from ${s}.t`, "read_only"],
    [`select * into ${s}.copied from ${s}.t`, "read_only"],
    ["select lo_import('/etc/passwd')", "permission_denied"],
    ["select pg_read_file('/etc/passwd')", "permission_denied"],
    ["select dblink_exec('dbname=meridian_test', 'delete from tenants')", "sql_error"],
  ];

  it(`refuses ${refused().length} bypass tricks through the query tool, and nothing changes`, async () => {
    const before = await snapshot();
    const outcomes: [string, string][] = [];
    for (const [sql] of refused()) {
      const reason = await callTool(query, { sql, connection: "SHOP_DB" }, tenantId).then(
        () => "ran",
        (error: unknown) => (error instanceof ToolError ? error.reason : String(error)),
      );
      outcomes.push([sql, reason]);
    }
    expect(outcomes).toEqual(refused());
    expect(await snapshot()).toEqual(before);
  });

  /**
   * The same kinds of tricks sent straight to PostgreSQL, without the query tool's first-keyword
   * check: the read-only transaction, the one-statement protocol and the role check refuse them on
   * their own. "ran" marks statements PostgreSQL allows in a read-only transaction; the rollback
   * undoes them, and the snapshot proves it.
   */
  const sessionTricks = (): [sql: string, outcome: string][] => [
    [`COMMIT; DROP TABLE ${s}.t`, "multiple_statements"],
    [`begin; delete from ${s}.t`, "multiple_statements"],
    ["SET TRANSACTION READ WRITE", "read_only"],
    [`copy ${s}.t to program 'touch /tmp/meridian-pwned'`, "permission_denied"],
    [`copy ${s}.t to '/tmp/meridian-pwned'`, "permission_denied"],
    [`copy ${s}.t from stdin`, "read_only"],
    [`do $$ begin delete from ${s}.t; end $$`, "read_only"],
    [`call ${s}.commit_then_write()`, "read_only"],
    ["create temp table scratch (a int)", "read_only"],
    [`insert into ${s}.t (v) values ('x')`, "read_only"],
    [`update ${s}.t set v = 'x'`, "read_only"],
    [`delete from ${s}.t`, "read_only"],
    [
      `merge into ${s}.t using (select 1) m on false when not matched then insert (v) values ('m')`,
      "read_only",
    ],
    [`truncate ${s}.t`, "read_only"],
    [`drop table ${s}.t`, "read_only"],
    [`alter table ${s}.t add column w int`, "read_only"],
    [`create table ${s}.u (a int)`, "read_only"],
    [`grant all on ${s}.t to public`, "read_only"],
    [`refresh materialized view ${s}.mv`, "read_only"],
    [`vacuum ${s}.t`, "read_only"],
    // The server here has max_prepared_transactions = 0; the query tool refuses PREPARE anyway.
    ["prepare transaction 'left_behind'", "sql_error"],
    // Allowed in a read-only transaction, undone by its rollback:
    ["select lo_creat(-1)", "ran"],
    ["select pg_notify('meridian', 'never delivered')", "ran"],
    ["select txid_current()", "ran"],
    [`lock table ${s}.t in access exclusive mode`, "ran"],
    ["select set_config('default_transaction_read_only', 'off', false)", "ran"],
    // Ends the read-only transaction; being the one statement, nothing runs after it.
    ["commit", "ran"],
  ];

  it(`${sessionTricks().length} tricks sent without the keyword check are refused or rolled back by PostgreSQL itself`, async () => {
    const before = await snapshot();
    const target = { url: ownerUrl(), connection: "owner" };
    const ctx = { config: testConfig(), signal: new AbortController().signal };
    const outcomes: [string, string][] = [];
    const largeObjects: string[] = [];
    for (const [sql] of sessionTricks()) {
      const outcome = await withReadOnlySession(target, ctx, (client) =>
        runStatement(client, sql, LIMITS),
      ).then(
        (result) => {
          if (sql.includes("lo_creat")) largeObjects.push(String(result.rows[0]?.[0]));
          return "ran";
        },
        (error: unknown) => (error instanceof ToolError ? error.reason : String(error)),
      );
      outcomes.push([sql, outcome]);
    }
    expect(outcomes).toEqual(sessionTricks());
    expect(await snapshot()).toEqual(before);
    const kept = await withClient(ownerUrl(), (client) =>
      client.query(
        "select count(*)::int as n from pg_largeobject_metadata where oid = $1::oid",
        largeObjects,
      ),
    );
    expect(kept.rows[0]).toEqual({ n: 0 });
  });

  it("a session-wide setting made by one call does not reach the next: writes stay refused", async () => {
    await callTool(
      query,
      { sql: "select set_config('default_transaction_read_only', 'off', false)", connection: "SHOP_DB" },
      tenantId,
    );
    await expectToolError(
      callTool(query, { sql: `select ${s}.bump()`, connection: "SHOP_DB" }, tenantId),
      "read_only",
      /cannot execute INSERT in a read-only transaction/,
    );
  });

  it("fails with unknown_connection for a secret the tenant does not have, and leaks nothing of others'", async () => {
    await expectToolError(
      callTool(query, { sql: "select 1", connection: "NO_SUCH_SECRET" }, tenantId),
      "unknown_connection",
      /no secret named NO_SUCH_SECRET/,
    );
    const other = (await createTenant()).tenant.id;
    await expectToolError(
      callTool(query, { sql: "select 1", connection: "SHOP_DB" }, other),
      "unknown_connection",
    );
  });

  it("refuses a private host unless OUTBOUND_ALLOW_PRIVATE (outside production) allows it, and a secret that is not a URL", async () => {
    await expectToolError(
      callTool(query, { sql: "select 1", connection: "SHOP_DB" }, tenantId, {
        config: { OUTBOUND_ALLOW_PRIVATE: false },
      }),
      "connection_refused",
      /127\.0\.0\.1 is a loopback address/,
    );
    await expectToolError(
      callTool(query, { sql: "select 1", connection: "SHOP_DB" }, tenantId, {
        config: { ENVIRONMENT: "production" },
      }),
      "connection_refused",
    );
    await putConnection(tenantId, "NOT_A_URL", "just some token");
    await expectToolError(
      callTool(listTables, { connection: "NOT_A_URL" }, tenantId),
      "connection_refused",
      /not a postgres:\/\/ URL/,
    );
  });
});

describe("input", () => {
  it("takes only secret names as connection, and refuses empty SQL before connecting", () => {
    expect(() => query.input.parse({ sql: "select 1", connection: "postgres://x@y/z" })).toThrow();
    expect(() => query.input.parse({ sql: "  \n" })).toThrow();
    expect(() => query.input.parse({ sql: "x".repeat(LIMITS.maxSqlLength + 1) })).toThrow();
    expect(query.input.parse({ sql: "select 1", connection: "SHOP_DB" })).toEqual({
      sql: "select 1",
      connection: "SHOP_DB",
    });
  });
});
