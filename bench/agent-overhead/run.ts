/**
 * bench/agent-overhead: time to first token (TTFT) and total time of a streamed agent run
 * through Meridian (`POST /v1/agents/{id}/execute` with `stream: true`) against the same
 * Messages API request sent straight to the local model server, interleaved in one run. Then
 * the Worker's bundle size against Workers' limits.
 *
 *   npm run bench:agent-overhead          (ITERATIONS=200 WARMUP=20 BENCH_PORT=8798 by default)
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeEnvFile } from "../../scripts/local-stack/dev-files.ts";
import { startLocalStack } from "../../scripts/local-stack/index.ts";
import { startWranglerDev, waitUntilUp } from "../../scripts/local-stack/wrangler-dev.ts";
import { createApiKeys, createBenchTenant, jsonClient, type Percentiles, percentiles } from "../shared.ts";

const ITERATIONS = Number(process.env.ITERATIONS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 8798);
const base = `http://127.0.0.1:${PORT}`;
const MODEL = "claude-sonnet-4-6";
/** The local model server answers "Echo: <message>": a short answer, the same on both sides. */
const MESSAGE = "Summarise the agent overhead benchmark in one short sentence.";
/** The target: Meridian adds at most this much to TTFT at p50. */
const TARGET_ADDED_MS = 5;
/** Each credential may make 600 requests a minute: a fresh key every this many runs. */
const RUNS_PER_KEY = 500;

interface SseEvent {
  event: string;
  data: string;
}

/** The events of a `text/event-stream` body as they arrive (comments skipped). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        let event = "message";
        const data: string[] = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length > 0) yield { event, data: data.join("\n") };
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

interface StreamTiming {
  /** Until the response headers arrived. */
  headers: number;
  ttft: number;
  total: number;
  text: string;
}

/**
 * Times one streamed request from just before `fetch()`: TTFT at the first `first` event,
 * total at the `last` event (or at the end of the stream when `last` is undefined). The body
 * is always read to its end, so the next request starts on a quiet connection.
 *
 * @throws Error on a non-200 answer, an `error` event, or a stream without `first` or `last`.
 */
async function timedStream(
  url: string,
  init: RequestInit,
  marks: { first: string; last?: string; text: (data: unknown) => string; check?: (data: unknown) => void },
): Promise<StreamTiming> {
  const started = performance.now();
  const res = await fetch(url, init);
  const headers = performance.now() - started;
  if (res.status !== 200 || !res.body) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  let ttft: number | undefined;
  let total: number | undefined;
  let text = "";
  for await (const { event, data } of sseEvents(res.body)) {
    if (event === "error") throw new Error(`${url}: error event ${data}`);
    if (event === marks.first) {
      ttft ??= performance.now() - started;
      text += marks.text(JSON.parse(data));
    }
    if (event === marks.last) {
      total = performance.now() - started;
      marks.check?.(JSON.parse(data));
    }
  }
  if (marks.last === undefined) total = performance.now() - started;
  if (ttft === undefined || total === undefined) {
    throw new Error(`${url}: the stream ended without ${ttft === undefined ? marks.first : marks.last}`);
  }
  return { headers, ttft, total, text };
}

async function timed(url: string, init: RequestInit = {}, expected = 200): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (res.status !== expected) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - started;
}

/** JSON with object keys sorted, to compare two request bodies regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

const pad = (s: string, n: number) => s.padStart(n);
const ms = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(2)}`;

/** Builds the production bundle (`npm run bundle:check`) and reads its size off the output. */
function bundleReport(): string[] {
  const result = spawnSync("npm", ["run", "--silent", "bundle:check"], { encoding: "utf8" });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  const line = output.split("\n").find((l) => l.startsWith("bundle:")) ?? output;
  const gzipKiB = Number(/(\d+) KiB gzip;/.exec(line)?.[1]);
  if (!Number.isFinite(gzipKiB)) return [line, `bundle: could not read the size (exit ${result.status})`];
  const fits = (limitMiB: number) => (gzipKiB <= limitMiB * 1024 ? "fits" : "does NOT fit");
  return [
    line,
    `bundle: ${(gzipKiB / 1024).toFixed(2)} MiB gzip: ${fits(2)} our 2 MiB budget, ${fits(3)} the free plan's 3 MiB, ${fits(10)} the paid plan's 10 MiB`,
  ];
}

// Against the local model server only: with ANTHROPIC_API_KEY set the stack would use the real
// API, and every round would be a billed request with network noise larger than the overhead.
delete process.env.ANTHROPIC_API_KEY;
const stack = await startLocalStack({ database: "meridian_bench_agent" });
const modelUrl = stack.bindings.ANTHROPIC_BASE_URL as string;
const modelKey = stack.bindings.ANTHROPIC_API_KEY as string;
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
const envFile = writeEnvFile("bench-agent.env", {
  ...stack.bindings,
  PLATFORM_ADMIN_TOKEN: admin,
  ENVIRONMENT: "development",
  LOG_LEVEL: "silent",
});
// Each run leaves a Durable Object behind; keep them out of the dev server's state.
const persistDir = mkdtempSync(join(tmpdir(), "meridian-bench-agent-"));
const wrangler = startWranglerDev(
  [
    "bench/agent-overhead/worker.ts",
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
try {
  await waitUntilUp(`${base}/health`, 120_000);
  const json = jsonClient(base);
  const tenant = await createBenchTenant(json, admin);
  const keyCount = Math.max(1, Math.ceil((ITERATIONS + WARMUP + 1) / RUNS_PER_KEY));
  const runKeys = await createApiKeys(json, tenant.owner, keyCount, "member");
  const probeKeys = await createApiKeys(json, tenant.owner, keyCount, "viewer");
  const agent = await json<{ id: string }>("/v1/agents", {
    method: "POST",
    headers: tenant.owner,
    body: JSON.stringify({ name: "bench", model: MODEL }),
  });
  const tenantId = (await json<{ id: string }>("/v1/tenant", { headers: tenant.owner })).id;
  // The same agent in a tenant with monthly budgets: each model call then holds its share
  // first and settles it with its usage (docs/quotas.md). Budgets far above what the runs use.
  const budgeted = await createBenchTenant(json, admin);
  const budgetedId = (await json<{ id: string }>("/v1/tenant", { headers: budgeted.owner })).id;
  await json(`/v1/tenants/${budgetedId}/quotas`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}` },
    body: JSON.stringify({ monthlyTokenBudget: 1_000_000_000, monthlyCostBudgetMicroUsd: 1_000_000_000_000 }),
  });
  const budgetedKeys = await createApiKeys(json, budgeted.owner, keyCount, "member");
  const budgetedAgent = await json<{ id: string }>("/v1/agents", {
    method: "POST",
    headers: budgeted.owner,
    body: JSON.stringify({ name: "bench", model: MODEL }),
  });

  const run = (agentId: string, keys: { authorization: string }[], i: number) =>
    timedStream(
      `${base}/v1/agents/${agentId}/execute`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...keys[Math.floor(i / RUNS_PER_KEY)],
        },
        body: JSON.stringify({ message: MESSAGE, stream: true }),
      },
      {
        first: "text_delta",
        last: "done",
        text: (d) => (d as { text: string }).text,
        check: (d) => {
          const { status } = d as { status: string };
          if (status !== "succeeded") throw new Error(`the run ended ${status}`);
        },
      },
    );
  const meridian = (i: number) => run(agent.id, runKeys, i);

  // The request Meridian's run sends, per the brief; checked below against what it really sent.
  let baselineBody: Record<string, unknown> = {
    model: MODEL,
    max_tokens: 4096,
    stream: true,
    messages: [{ role: "user", content: [{ type: "text", text: MESSAGE }] }],
  };
  const modelHeaders = {
    "x-api-key": modelKey,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
  };
  const contentDelta = {
    first: "content_block_delta",
    text: (d: unknown) => (d as { delta: { text?: string } }).delta.text ?? "",
  };
  const direct = () =>
    timedStream(
      `${modelUrl}/v1/messages`,
      { method: "POST", headers: modelHeaders, body: JSON.stringify(baselineBody) },
      contentDelta,
    );

  // One run first, to compare the request it made with the baseline's and the answers.
  const probe = await meridian(0);
  const recorded = await (await fetch(`${modelUrl}/__requests`)).json();
  const sent = (recorded as { requests: { path: string; body: Record<string, unknown> }[] }).requests
    .filter((r) => r.path === "/v1/messages")
    .at(-1)?.body;
  if (!sent) throw new Error("the model server recorded no request from the run");
  const differs = [...new Set([...Object.keys(sent), ...Object.keys(baselineBody)])].filter(
    (k) => canonical(sent[k]) !== canonical(baselineBody[k]),
  );
  if (differs.length > 0) {
    const shown = differs.map((k) => `${k}: ${JSON.stringify(sent[k])}`).join("; ");
    console.log(`note: the baseline sends the request Meridian's run sent, which differs in ${shown}`);
    baselineBody = { ...sent, stream: true };
  } else {
    console.log("the baseline's request body is the one Meridian's run sent (checked on the model server)");
  }
  const probeDirect = await direct();
  if (probe.text !== probeDirect.text) {
    throw new Error(
      `different answers: ${JSON.stringify(probe.text)} vs ${JSON.stringify(probeDirect.text)}`,
    );
  }

  type Sample = { headers?: number; ttft?: number; total: number };
  const sides: Record<string, (i: number) => Promise<Sample>> = {
    direct: () => direct(),
    meridian: (i) => meridian(i + 1),
    "with budgets": (i) => run(budgetedAgent.id, budgetedKeys, i),
  };
  const parts: Record<string, (i: number) => Promise<Sample>> = {
    "part: no-op": async () => ({ total: await timed(`${base}/health`) }),
    "part: auth only": async (i) => ({
      total: await timed(
        `${base}/v1/does-not-exist`,
        { headers: probeKeys[Math.floor(i / RUNS_PER_KEY)] },
        404,
      ),
    }),
    "part: prepare tx": async () => ({
      total: await timed(`${base}/__bench/prepare/${tenantId}/${agent.id}`),
    }),
    "part: new object": async () => ({ total: await timed(`${base}/__bench/object`) }),
    "part: model in Worker": () =>
      timedStream(
        `${base}/__bench/model`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(baselineBody),
        },
        { first: "text_delta", last: "done", text: (d) => (d as { text: string }).text },
      ),
  };
  const variants = { ...sides, ...parts };
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < WARMUP; i++) {
    for (const run of Object.values(variants)) await run(i);
  }
  // Interleaved so both sides see the same machine noise; the two sides swap order each round.
  for (let i = 0; i < ITERATIONS; i++) {
    const order =
      i % 2 === 0 ? ["direct", "meridian", "with budgets"] : ["with budgets", "meridian", "direct"];
    for (const name of [...order, ...Object.keys(parts)]) {
      samples[name]?.push(await (variants[name] as (i: number) => Promise<Sample>)(WARMUP + i));
    }
  }
  const stat = (name: string, of: keyof Sample | ((s: Sample) => number)): Percentiles =>
    percentiles((samples[name] ?? []).map((s) => (typeof of === "function" ? of(s) : (s[of] ?? Number.NaN))));
  // Per run, then percentiles: where in the stream each side spends its time.
  const marks: [string, (s: Sample) => number][] = [
    ["headers", (s) => s.headers ?? Number.NaN],
    ["TTFT", (s) => s.ttft ?? Number.NaN],
    ["total", (s) => s.total],
    ["headers→TTFT", (s) => (s.ttft ?? Number.NaN) - (s.headers ?? Number.NaN)],
    ["TTFT→end", (s) => s.total - (s.ttft ?? Number.NaN)],
  ];

  console.log(
    `agent-overhead: ${ITERATIONS} interleaved streamed runs per side, sequential, after ${WARMUP} warm-up rounds`,
  );
  console.log(`message ${JSON.stringify(MESSAGE)}; answer ${JSON.stringify(probe.text)}`);
  console.log(`${stack.describe.join("; ")}`);
  console.log("");
  console.log("(headers: response headers in; TTFT: first text event; total: `done` / end of stream)");
  console.log("side         mark          p50 ms   p99 ms");
  for (const side of ["direct", "meridian", "with budgets"]) {
    for (const [label, of] of marks) {
      const s = stat(side, of);
      console.log(`${side.padEnd(12)} ${label.padEnd(12)} ${pad(ms(s.p50), 7)} ${pad(ms(s.p99), 8)}`);
    }
  }
  console.log("");
  console.log("added by Meridian   p50 ms   p99 ms   p50 ratio   p99 ratio");
  const verdicts: string[] = [];
  for (const key of ["ttft", "total"] as const) {
    const d = stat("direct", key);
    const m = stat("meridian", key);
    const label = key === "ttft" ? "TTFT" : "total";
    console.log(
      `${label.padEnd(18)} ${pad(signed(m.p50 - d.p50), 7)} ${pad(signed(m.p99 - d.p99), 8)} ${pad((m.p50 / d.p50).toFixed(2), 11)} ${pad((m.p99 / d.p99).toFixed(2), 11)}`,
    );
    const added = m.p50 - d.p50;
    verdicts.push(`${label} ${added <= TARGET_ADDED_MS ? "met" : "MISSED"} (${signed(added)} ms at p50)`);
  }
  console.log(`target (at most ${TARGET_ADDED_MS} ms added at p50): ${verdicts.join("; ")}`);
  console.log("");
  // What a tenant's budgets add to a run: the up-front check rides on the agent query; the
  // first call's hold rides on the statement that stores the user's message, each later one on
  // the statement that stores the tool results before it; the settle rides on the statement
  // that stores the call's totals.
  console.log("added by budgets   p50 ms   p99 ms   (with budgets - meridian)");
  for (const key of ["ttft", "total"] as const) {
    const m = stat("meridian", key);
    const b = stat("with budgets", key);
    console.log(
      `${(key === "ttft" ? "TTFT" : "total").padEnd(17)} ${pad(signed(b.p50 - m.p50), 7)} ${pad(signed(b.p99 - m.p99), 8)}`,
    );
  }
  console.log("");
  console.log("(part: rows time one piece alone, through wrangler dev like the runs)");
  console.log("part                    p50 ms   p99 ms   TTFT p50   TTFT p99");
  for (const name of Object.keys(parts)) {
    const s = stat(name, "total");
    const t = stat(name, "ttft");
    const ttft = Number.isNaN(t.p50) ? "" : `${pad(ms(t.p50), 10)} ${pad(ms(t.p99), 10)}`;
    console.log(`${name.padEnd(22)} ${pad(ms(s.p50), 7)} ${pad(ms(s.p99), 8)} ${ttft}`);
  }
} finally {
  wrangler.stop();
  await stack.close();
  rmSync(persistDir, { recursive: true, force: true });
}
// After the stack is down, so the build does not compete with the timed requests.
console.log("");
for (const line of bundleReport()) console.log(line);
