/**
 * Pieces the benchmarks share: percentiles, a JSON client for the Worker under test, and a
 * fresh tenant with a signed-in owner.
 */
import { randomBytes } from "node:crypto";

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
