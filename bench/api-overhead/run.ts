/**
 * bench/api-overhead: p50/p99 of GET /v1/agents/{id} through the full stack (auth, rate limit,
 * tenant transaction, RLS) against a raw read of the same row through the same driver, relay
 * and per-request connection setup, from the same Worker, interleaved in one run.
 *
 *   npm run bench:api-overhead            (ITERATIONS=400 CONCURRENCY=1 by default)
 */
import { randomBytes } from "node:crypto";
import { writeEnvFile } from "../../scripts/local-stack/dev-files.ts";
import { startLocalStack } from "../../scripts/local-stack/index.ts";
import { startWranglerDev, waitUntilUp } from "../../scripts/local-stack/wrangler-dev.ts";

const ITERATIONS = Number(process.env.ITERATIONS ?? 400);
const WARMUP = Number(process.env.WARMUP ?? 40);
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const base = `http://127.0.0.1:${PORT}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed(url: string, headers: Record<string, string> = {}, expected = 200): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== expected) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - started;
}

async function json<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const stack = await startLocalStack({ database: "meridian_bench" });
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
const ownerUrl = new URL(stack.ownerUrl);
const envFile = writeEnvFile("bench.env", {
  ...stack.bindings,
  PLATFORM_ADMIN_TOKEN: admin,
  ENVIRONMENT: "development",
  LOG_LEVEL: "silent",
  BENCH_RAW_DATABASE_URL: ownerUrl.toString(),
});
const wrangler = startWranglerDev(
  ["bench/api-overhead/worker.ts", "--env-file", envFile, "--port", String(PORT), "--ip", "127.0.0.1"],
  { quiet: true },
);
try {
  await waitUntilUp(`${base}/health`, 120_000);
  const slug = `bench-${randomBytes(4).toString("hex")}`;
  const password = randomBytes(16).toString("hex");
  await json("/v1/tenants", {
    method: "POST",
    headers: { authorization: `Bearer ${admin}` },
    body: JSON.stringify({ slug, name: "bench", owner: { email: `o@${slug}.test`, password } }),
  });
  const login = await json<{ accessToken: string }>("/v1/auth/login", {
    method: "POST",
    body: JSON.stringify({ tenant: slug, email: `o@${slug}.test`, password }),
  });
  const jwt = { authorization: `Bearer ${login.accessToken}` };
  const key = await json<{ key: string }>("/v1/api-keys", {
    method: "POST",
    headers: jwt,
    body: JSON.stringify({ name: "bench", role: "viewer" }),
  });
  const probeKey = await json<{ key: string }>("/v1/api-keys", {
    method: "POST",
    headers: jwt,
    body: JSON.stringify({ name: "bench probe", role: "viewer" }),
  });
  const agent = await json<{ id: string }>("/v1/agents", {
    method: "POST",
    headers: jwt,
    body: JSON.stringify({ name: "bench", model: "claude-sonnet-4-6", systemPrompt: "x".repeat(500) }),
  });

  const tenantId = (await json<{ id: string }>("/v1/tenant", { headers: jwt })).id;
  const variants = {
    raw: () => timed(`${base}/__bench/raw/${agent.id}`),
    "part: no-op": () => timed(`${base}/health`),
    "part: redis": () => timed(`${base}/__bench/redis`),
    // Its own key: each credential may make 600 requests a minute, and the others need theirs.
    "part: auth only": () =>
      timed(`${base}/v1/does-not-exist`, { authorization: `Bearer ${probeKey.key}` }, 404),
    "part: tenant tx": () => timed(`${base}/__bench/tx/${tenantId}/${agent.id}`),
    "full (JWT)": () => timed(`${base}/v1/agents/${agent.id}`, jwt),
    "full (API key)": () => timed(`${base}/v1/agents/${agent.id}`, { authorization: `Bearer ${key.key}` }),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < WARMUP; i++) for (const run of Object.values(variants)) await run();
  // Interleaved so both sides see the same machine noise.
  for (let i = 0; i < ITERATIONS; i++) {
    for (const [name, run] of Object.entries(variants)) samples[name]?.push(await run());
  }
  const stats = Object.fromEntries(
    Object.entries(samples).map(([name, xs]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return [name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
    }),
  );
  const raw = stats.raw as { p50: number; p99: number };
  console.log(
    `api-overhead: ${ITERATIONS} interleaved requests per variant, sequential, after ${WARMUP} warm-up rounds`,
  );
  console.log("variant           p50 ms   p99 ms   p50 ratio   p50 added ms");
  console.log(
    "(part: rows time one piece alone: a request doing nothing (/health); both rate-limit checks; connect + tenant transaction + query)",
  );
  for (const [name, s] of Object.entries(stats)) {
    console.log(
      `${name.padEnd(16)} ${s.p50.toFixed(2).padStart(7)} ${s.p99.toFixed(2).padStart(8)} ${(s.p50 / raw.p50).toFixed(2).padStart(11)} ${(s.p50 - raw.p50).toFixed(2).padStart(14)}`,
    );
  }
} finally {
  wrangler.stop();
  await stack.close();
}
