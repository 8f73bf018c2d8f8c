/**
 * What the bench reads besides response times: the CPU the Worker's workerd processes have used
 * (Linux `/proc`), and what PostgreSQL saw (sessions, commits, connections waiting on a lock),
 * read as the superuser because only it sees other roles' wait events.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return {
      pid: Number(pid),
      comm: stat.slice(stat.indexOf("(") + 1, close),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds used so far by the workerd processes below this one (the `wrangler dev` it
 * started), so other sessions' workerd on a shared machine do not count. NaN where there is no
 * `/proc`. Resolution: one clock tick (10 ms), so read it over many requests.
 */
export function workerdCpu(): () => number {
  let msPerTick = Number.NaN;
  try {
    msPerTick = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  } catch {
    return () => Number.NaN;
  }
  let pids: string[] = [];
  const discover = () => {
    const all = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .flatMap((pid) => readStat(pid) ?? []);
    const below = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) {
        if (below.has(p.ppid) && !below.has(p.pid)) {
          below.add(p.pid);
          grew = true;
        }
      }
    }
    pids = all.filter((p) => below.has(p.pid) && p.comm === "workerd").map((p) => String(p.pid));
  };
  return () => {
    if (pids.length === 0) discover();
    const stats = pids.map(readStat);
    if (pids.length === 0 || stats.some((s) => s === undefined)) return Number.NaN;
    return stats.reduce((sum, s) => sum + (s?.ticks ?? 0), 0) * msPerTick;
  };
}

export interface DatabaseCounters {
  sessions: number;
  commits: number;
  /** Rows written to the two tables of PostgreSQL's copy of executions. */
  executionInserts: number;
  executionUpdates: number;
  stepInserts: number;
  stepUpdates: number;
}

/** Superuser connection to the bench database: counters, what is waiting, and polling. */
export class Watcher {
  private constructor(readonly client: pg.Client) {}

  static async connect(adminUrl: string, database: string): Promise<Watcher> {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    return new Watcher(client);
  }

  /**
   * Sessions opened and transactions committed on this database so far. Each backend reports
   * its counts when it ends or at most once a second; the caller waits for the sessions it
   * counts to end. This reading itself adds two commits (the flush, then the read).
   */
  async counters(): Promise<DatabaseCounters> {
    await this.client.query("select pg_stat_force_next_flush()");
    const { rows } = await this.client.query<DatabaseCounters>(
      `select d.sessions::float8 as sessions, d.xact_commit::float8 as commits,
              e.n_tup_ins::float8 as "executionInserts", e.n_tup_upd::float8 as "executionUpdates",
              s.n_tup_ins::float8 as "stepInserts", s.n_tup_upd::float8 as "stepUpdates"
         from pg_stat_database d,
              pg_stat_user_tables e,
              pg_stat_user_tables s
        where d.datname = current_database()
          and e.relname = 'workflow_executions' and s.relname = 'workflow_step_executions'`,
    );
    return rows[0] as DatabaseCounters;
  }

  /** Client connections on the server and on this database, and those waiting on an advisory lock. */
  async activity(): Promise<{ server: number; database: number; advisory: number }> {
    const { rows } = await this.client.query<{ server: number; database: number; advisory: number }>(
      `select count(*)::int as server,
              count(*) filter (where datname = current_database())::int as database,
              count(*) filter (where datname = current_database() and wait_event = 'advisory')::int as advisory
         from pg_stat_activity where backend_type = 'client backend'`,
    );
    return rows[0] as { server: number; database: number; advisory: number };
  }

  async connectionLimits(): Promise<{ max: number; reserved: number }> {
    const { rows } = await this.client.query<{ max: number; reserved: number }>(
      `select current_setting('max_connections')::int as max,
              current_setting('superuser_reserved_connections')::int as reserved`,
    );
    return rows[0] as { max: number; reserved: number };
  }

  /** How many of `ids` PostgreSQL's copy still shows pending, running or waiting. */
  async stillActive(ids: string[]): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      `select count(*)::int as n from workflow_executions
        where id = any($1::uuid[]) and status in ('pending', 'running', 'waiting')`,
      [ids],
    );
    return rows[0]?.n ?? 0;
  }

  /** Executions of the whole database that have not ended. */
  async activeExecutions(): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      "select count(*)::int as n from workflow_executions where status in ('pending', 'running', 'waiting')",
    );
    return rows[0]?.n ?? 0;
  }

  end(): Promise<void> {
    return this.client.end();
  }
}
