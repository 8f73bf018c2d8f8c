/**
 * Pieces the benchmarks share: percentiles, a JSON client for the Worker under test, a fresh
 * tenant with a signed-in owner, a stack on a database of its own, `wrangler dev` with its own
 * state, and aligned tables.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { writeEnvFile } from "../scripts/local-stack/dev-files.ts";
import { type LocalStack, startLocalStack } from "../scripts/local-stack/index.ts";
import { startWranglerDev, waitUntilUp } from "../scripts/local-stack/wrangler-dev.ts";

export interface Percentiles {
  p50: number;
  p99: number;
}

/** Nearest-rank percentile of an ascending list; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export type JsonClient = <T>(path: string, init?: RequestInit) => Promise<T>;

/**
 * Sends JSON to `base` and parses the answer.
 *
 * @throws Error with the status and body when the answer is not 2xx.
 */
export function jsonClient(base: string): JsonClient {
  return async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { "content-type": "application/json", ...init.headers },
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
}

export interface BenchTenant {
  slug: string;
  /** The owner's access token, as `Authorization` headers. */
  owner: { authorization: string };
}

/** Creates a tenant through the platform admin token and signs its owner in. */
export async function createBenchTenant(json: JsonClient, adminToken: string): Promise<BenchTenant> {
  const slug = `bench-${randomBytes(4).toString("hex")}`;
  const email = `o@${slug}.test`;
  const password = randomBytes(16).toString("hex");
  await json("/v1/tenants", {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ slug, name: "bench", owner: { email, password } }),
  });
  const login = await json<{ accessToken: string }>("/v1/auth/login", {
    method: "POST",
    body: JSON.stringify({ tenant: slug, email, password }),
  });
  return { slug, owner: { authorization: `Bearer ${login.accessToken}` } };
}

/** Mints `count` API keys with `role`, as `Authorization` headers. */
export async function createApiKeys(
  json: JsonClient,
  owner: BenchTenant["owner"],
  count: number,
  role: "admin" | "member" | "viewer",
): Promise<{ authorization: string }[]> {
  const keys: { authorization: string }[] = [];
  for (let i = 0; i < count; i++) {
    const { key } = await json<{ key: string }>("/v1/api-keys", {
      method: "POST",
      headers: owner,
      body: JSON.stringify({ name: `bench ${i + 1}`, role }),
    });
    keys.push({ authorization: `Bearer ${key}` });
  }
  return keys;
}

/**
 * The local stack on a database of the benchmark's own (`BENCH_DATABASE` overrides the name),
 * emptied first (every tenant and all it owns, `truncate tenants cascade`), so each run starts
 * from the migrations alone: sizes, index builds and plans do not depend on an earlier run. It
 * is emptied rather than dropped because DROP DATABASE waits until every backend on the server
 * has acknowledged it, which one stuck session of someone else's can hold up indefinitely on a
 * shared server (and an interrupted drop leaves the database unusable). Needs a PostgreSQL
 * server: the embedded stand-in runs one transaction at a time and would measure nothing worth
 * reporting.
 *
 * @throws Error when no server is reachable.
 */
export async function startBenchStack(database: string): Promise<LocalStack> {
  const stack = await startLocalStack({
    database: process.env.BENCH_DATABASE ?? database,
    requireServers: true,
  });
  const owner = new pg.Client({ connectionString: stack.ownerUrl });
  try {
    await owner.connect();
    await owner.query("truncate tenants cascade");
  } catch (error) {
    await stack.close();
    throw error;
  } finally {
    await owner.end().catch(() => undefined);
  }
  return stack;
}

export interface BenchWorker {
  /** e.g. `http://127.0.0.1:8796` */
  base: string;
  /** Stops `wrangler dev` and removes its state (R2, queues, Durable Objects). */
  stop(): void;
}

/**
 * Runs `wrangler dev` on `script` with the stack's bindings plus `vars`, state in a temporary
 * directory, and waits for `/health`.
 *
 * @throws Error when the Worker does not answer within two minutes (wrangler is stopped first).
 */
export async function startBenchWorker(opts: {
  script: string;
  port: number;
  /** Name of the env file under `.meridian/`. */
  envName: string;
  vars: Record<string, string>;
}): Promise<BenchWorker> {
  const envFile = writeEnvFile(opts.envName, opts.vars);
  const persistDir = mkdtempSync(join(tmpdir(), "meridian-bench-"));
  const base = `http://127.0.0.1:${opts.port}`;
  const args = [opts.script, "--env-file", envFile, "--port", String(opts.port), "--ip", "127.0.0.1"];
  // BENCH_WRANGLER_LOGS=1 shows wrangler's and the Worker's output, to debug a run.
  const wrangler = startWranglerDev([...args, "--persist-to", persistDir], {
    quiet: !process.env.BENCH_WRANGLER_LOGS,
  });
  const stop = () => {
    wrangler.stop();
    rmSync(persistDir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(`${base}/health`, 120_000);
  } catch (error) {
    stop();
    throw error;
  }
  return { base, stop };
}

/** Milliseconds `fn` took, with its value. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Prints rows under a header: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** CPUs and the 1-minute load average: what else the machine was doing shapes every figure. */
export function machineLoad(): string {
  return `${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(2)}`;
}
