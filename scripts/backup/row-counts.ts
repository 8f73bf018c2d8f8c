import pg from "pg";

/** Rows per table, keyed `schema.table`: every table of `public` and drizzle's migrations table. */
export type RowCounts = Record<string, number>;

/**
 * How the counting role sees every row: `bypass` (a superuser or BYPASSRLS role, counting with
 * `row_security = off`) or `owner-policies` (a role subject to row-level security, such as
 * `meridian_owner` under FORCE ROW LEVEL SECURITY, that every table's policies let see all rows;
 * pg_dump then needs `--enable-row-security`).
 */
export type RowSecurityMode = "bypass" | "owner-policies";

/** A table a role would see only part of, and why. */
export class HiddenRowsError extends Error {
  constructor(readonly tables: string[]) {
    super(
      `the role would see only some rows of ${tables.join(", ")} under row-level security: ` +
        "use a superuser or a BYPASSRLS role, or give it a permissive policy USING (true) on those tables",
    );
    this.name = "HiddenRowsError";
  }
}

const TABLES_SQL = `
  select n.nspname as schema, c.relname as name, row_security_active(c.oid) as rls
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r'
    and (n.nspname = 'public' or (n.nspname = 'drizzle' and c.relname = '__drizzle_migrations'))
  order by 1, 2`;

/**
 * Policies that decide whether the current role sees a whole table. A permissive policy counts
 * only if the role holds its privileges (pg_has_role USAGE) and restrictive ones whenever the role
 * is a member at all (MEMBER): either way a doubtful case reports hidden rows rather than a
 * count that could be short.
 */
const POLICIES_SQL = `
  select p.polpermissive as permissive,
         coalesce(pg_get_expr(p.polqual, p.polrelid), '') as qual,
         (0 = any(p.polroles) or exists (
            select 1 from unnest(p.polroles) r
            where pg_has_role(current_user, r, case when p.polpermissive then 'USAGE' else 'MEMBER' end)
         )) as applies
  from pg_policy p
  where p.polrelid = format('%I.%I', $1::text, $2::text)::regclass
    and p.polcmd in ('*', 'r')`;

interface TableRow {
  schema: string;
  name: string;
  rls: boolean;
}

/**
 * Which {@link RowSecurityMode} lets this session see every row of every counted table.
 *
 * @throws HiddenRowsError naming the tables where row-level security would hide rows.
 */
export async function rowSecurityMode(client: pg.ClientBase): Promise<RowSecurityMode> {
  const { rows: role } = await client.query<{ bypass: boolean }>(
    "select rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user",
  );
  if (role[0]?.bypass) return "bypass";
  const { rows: tables } = await client.query<TableRow>(TABLES_SQL);
  const hidden: string[] = [];
  for (const table of tables.filter((t) => t.rls)) {
    const { rows: policies } = await client.query<{ permissive: boolean; qual: string; applies: boolean }>(
      POLICIES_SQL,
      [table.schema, table.name],
    );
    const applying = policies.filter((p) => p.applies);
    const seesAll = applying.some((p) => p.permissive && p.qual === "true");
    const narrowed = applying.some((p) => !p.permissive && p.qual !== "true");
    if (!seesAll || narrowed) hidden.push(`${table.schema}.${table.name}`);
  }
  if (hidden.length > 0) throw new HiddenRowsError(hidden);
  return "owner-policies";
}

/**
 * Counts the rows of every table of `public` and `drizzle.__drizzle_migrations`, in whatever
 * snapshot the session's current transaction has (run it inside the REPEATABLE READ transaction
 * whose snapshot the dump used, or the counts describe another moment).
 *
 * @throws HiddenRowsError when row-level security would make a count short.
 * @example
 * await client.query("begin isolation level repeatable read read only");
 * const counts = await countRows(client); // { "public.agents": 12, ... }
 */
export async function countRows(client: pg.ClientBase): Promise<RowCounts> {
  const mode = await rowSecurityMode(client);
  // Off means "all rows or an error", never a silently filtered count; a role subject to RLS
  // must keep it on, and rowSecurityMode has just shown its policies let it see every row.
  if (mode === "bypass") await client.query("set local row_security = off");
  const { rows: tables } = await client.query<TableRow>(TABLES_SQL);
  const counts: RowCounts = {};
  for (const table of tables) {
    const name = `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
    // ONLY: a partition or inheritance child is counted as its own table, never twice.
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from only ${name}`);
    counts[`${table.schema}.${table.name}`] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

export interface CountComparison {
  table: string;
  expected: number | null;
  actual: number | null;
  ok: boolean;
}

/**
 * Table by table, `expected` (the source in the dump's snapshot) against `actual` (the restored
 * copy). A table on one side only is a difference too.
 *
 * @example
 * const rows = compareCounts({ "public.agents": 2 }, { "public.agents": 1 }); // [{ ok: false, ... }]
 */
export function compareCounts(expected: RowCounts, actual: RowCounts): CountComparison[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables.map((table) => {
    const e = expected[table] ?? null;
    const a = actual[table] ?? null;
    return { table, expected: e, actual: a, ok: e !== null && e === a };
  });
}

/** The comparison as an aligned text table, differences marked. */
export function formatComparison(rows: CountComparison[]): string {
  const header = ["table", "source", "restored", ""];
  const body = rows.map((r) => [
    r.table,
    r.expected === null ? "missing" : String(r.expected),
    r.actual === null ? "missing" : String(r.actual),
    r.ok ? "ok" : "DIFFERENT",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...body.map(line)].join("\n");
}
