/**
 * bench/mcp-overhead: p50/p99 of a built-in MCP tool call through Meridian's REST route
 * (`POST /v1/mcp/execute`) against the same call made with the MCP SDK's own client
 * (`Client` + `StreamableHTTPClientTransport`, `tools/call`) on Meridian's built-in endpoint
 * `POST /v1/mcp/builtin/calculator`, interleaved in one run. Both sides authenticate with a
 * `member` API key, run in one tenant transaction and record one `mcp_tool_executions` row, so
 * the difference is what the REST route adds or saves against the MCP protocol path. A `part:`
 * row times the tool's `run()` alone inside the Worker (no auth, no database): the floor.
 *
 *   npm run bench:mcp-overhead            (ITERATIONS=300 WARMUP=30 BENCH_PORT=8797 by default)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { writeEnvFile } from "../../scripts/local-stack/dev-files.ts";
import { startLocalStack } from "../../scripts/local-stack/index.ts";
import { startWranglerDev, waitUntilUp } from "../../scripts/local-stack/wrangler-dev.ts";
import { createApiKeys, createBenchTenant, jsonClient, percentiles } from "../shared.ts";

const ITERATIONS = Number(process.env.ITERATIONS ?? 300);
const WARMUP = Number(process.env.WARMUP ?? 30);
const PORT = Number(process.env.BENCH_PORT ?? 8797);
const base = `http://127.0.0.1:${PORT}`;
const INPUT = { a: 2, b: 3 };
/** Each credential may make 600 requests a minute: a fresh key every this many calls. */
const CALLS_PER_KEY = 500;

async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await call();
  return { ms: performance.now() - started, value };
}

/** POSTs JSON and reads the whole answer. @throws Error on a non-200 answer. */
async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function connectCalculator(authorization: string): Promise<Client> {
  const client = new Client({ name: "meridian-bench", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp/builtin/calculator`), {
    requestInit: { headers: { authorization } },
  });
  await client.connect(transport);
  return client;
}

const pad = (s: string, n: number) => s.padStart(n);
const ms = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(2)}`;

const stack = await startLocalStack({ database: "meridian_bench_mcp" });
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
const envFile = writeEnvFile("bench-mcp.env", {
  ...stack.bindings,
  PLATFORM_ADMIN_TOKEN: admin,
  ENVIRONMENT: "development",
  LOG_LEVEL: "silent",
});
const persistDir = mkdtempSync(join(tmpdir(), "meridian-bench-mcp-"));
const wrangler = startWranglerDev(
  [
    "bench/mcp-overhead/worker.ts",
    "--env-file",
    envFile,
    "--port",
    String(PORT),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    persistDir,
  ],
  { quiet: true },
);
const clients: Client[] = [];
try {
  await waitUntilUp(`${base}/health`, 120_000);
  const json = jsonClient(base);
  const tenant = await createBenchTenant(json, admin);
  const keyCount = Math.max(1, Math.ceil((ITERATIONS + WARMUP + 1) / CALLS_PER_KEY));
  // A key set per side, so neither side's calls count against the other's rate limit.
  const restKeys = await createApiKeys(json, tenant.owner, keyCount, "member");
  const sdkKeys = await createApiKeys(json, tenant.owner, keyCount, "member");
  for (const key of sdkKeys) clients.push(await connectCalculator(key.authorization));
  const keyIndex = (i: number) => Math.floor(i / CALLS_PER_KEY);

  const meridian = async (i: number) => {
    const r = (await postJson(
      `${base}/v1/mcp/execute`,
      { server: "calculator", tool: "add", input: INPUT },
      restKeys[keyIndex(i)],
    )) as { status: string; output: unknown };
    if (r.status !== "succeeded") throw new Error(`the REST call ${r.status}: ${JSON.stringify(r)}`);
    return r.output;
  };
  const sdk = async (i: number) => {
    const r = await (clients[keyIndex(i)] as Client).callTool({ name: "add", arguments: INPUT });
    if (r.isError) throw new Error(`the MCP call failed: ${JSON.stringify(r)}`);
    return r.structuredContent;
  };
  const runInWorker = () => postJson(`${base}/__bench/calculator/add`, INPUT);
  const noop = async () => {
    const res = await fetch(`${base}/health`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`/health answered ${res.status}`);
  };

  // One call each first: the three must give the same answer.
  const answers = [await meridian(0), await sdk(0), await runInWorker()].map((a) => JSON.stringify(a));
  if (new Set(answers).size !== 1) throw new Error(`different answers: ${answers.join(" / ")}`);

  const variants: Record<string, (i: number) => Promise<unknown>> = {
    "mcp sdk": sdk,
    meridian,
    "part: no-op": noop,
    "part: run() in Worker": runInWorker,
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < WARMUP; i++) {
    for (const run of Object.values(variants)) await run(i + 1);
  }
  // Interleaved so both sides see the same machine noise; the two sides swap order each round.
  for (let i = 0; i < ITERATIONS; i++) {
    const order = i % 2 === 0 ? ["mcp sdk", "meridian"] : ["meridian", "mcp sdk"];
    for (const name of [...order, "part: no-op", "part: run() in Worker"]) {
      const run = variants[name] as (i: number) => Promise<unknown>;
      samples[name]?.push((await timed(() => run(WARMUP + 1 + i))).ms);
    }
  }
  const stats = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, percentiles(xs)]));

  console.log(
    `mcp-overhead: ${ITERATIONS} interleaved calls per variant, sequential, after ${WARMUP} warm-up rounds`,
  );
  console.log(`calculator.add ${JSON.stringify(INPUT)} → ${answers[0]}`);
  console.log(`${stack.describe.join("; ")}`);
  console.log("");
  console.log("(mcp sdk: Client.callTool over Streamable HTTP to POST /v1/mcp/builtin/calculator;");
  console.log(" meridian: POST /v1/mcp/execute; part: rows time one piece alone, through wrangler dev)");
  console.log("variant                 p50 ms   p99 ms");
  for (const [name, s] of Object.entries(stats)) {
    console.log(`${name.padEnd(22)} ${pad(ms(s.p50), 7)} ${pad(ms(s.p99), 8)}`);
  }
  const d = stats["mcp sdk"] as { p50: number; p99: number };
  const m = stats.meridian as { p50: number; p99: number };
  console.log("");
  console.log("meridian vs mcp sdk   p50 ms   p99 ms   p50 ratio   p99 ratio");
  console.log(
    `${"difference".padEnd(20)} ${pad(signed(m.p50 - d.p50), 7)} ${pad(signed(m.p99 - d.p99), 8)} ${pad((m.p50 / d.p50).toFixed(2), 11)} ${pad((m.p99 / d.p99).toFixed(2), 11)}`,
  );
} finally {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  wrangler.stop();
  await stack.close();
  rmSync(persistDir, { recursive: true, force: true });
}
