/**
 * bench/workflow-steps: what one workflow step costs the engine, persistence included, against
 * the same transforms resolved in a plain loop in Node (`resolveValue`, nothing stored), in
 * one run. Then BURST executions started at once: do all finish, and how long does it take.
 *
 * Shapes, each run ITERATIONS times, one execution at a time, in a rotating order:
 * - `chain of 20`: 20 transforms in a row, each reading the previous output and the input;
 * - `parallel 10x2`: one parallel step of 10 branches of 2 transforms (21 steps recorded);
 * - `chain of 1`: the fixed cost of an execution (route, new object, PostgreSQL copy), which
 *   the marginal rows subtract, round by round.
 *
 * Per execution, from Node: POST /v1/workflows/{id}/execute until the 202, the event stream
 * until `done` (each step_succeeded's durationMs kept), then GET /v1/workflow-executions/{id}
 * for the timestamps the object recorded. Node and workerd share the machine's clock, so the
 * object's timestamps can be set against the moment Node sent the POST; a clock check first
 * shows whether workerd's clock moves during CPU work (deployed Workers' does not).
 *
 *   npm run bench:workflow-steps          (ITERATIONS=30 WARMUP=5 BURST=100 BENCH_PORT=8794 by default)
 */
import { randomBytes } from "node:crypto";
import { superuserUrl } from "../../scripts/local-stack/postgres.ts";
import {
  createApiKeys,
  createBenchTenant,
  jsonClient,
  machineLoad,
  percentile,
  printTable,
  startBenchStack,
  startBenchWorker,
} from "../shared.ts";
import { type DatabaseCounters, Watcher, workerdCpu } from "./probes.ts";
import { chain, fanOut, INPUT, runPlain, type Shape } from "./shapes.ts";

const ITERATIONS = Number(process.env.ITERATIONS ?? 30);
const WARMUP = Number(process.env.WARMUP ?? 5);
const BURST = Number(process.env.BURST ?? 100);
const PORT = Number(process.env.BENCH_PORT ?? 8794);
/** How often one burst start is retried after a 503. */
const BURST_RETRIES = 5;
const BURST_TIMEOUT_MS = Number(process.env.BURST_TIMEOUT_MS ?? 90_000);
/** Requests of each kind whose PostgreSQL sessions and commits are counted. */
const COUNTED = 20;
/** Long enough for every counted session to end and report its counts. */
const SETTLE_MS = 1500;
/** The issue's targets for one step, and what it quotes for Cloudflare Workflows. */
const TARGET_P50_MS = 5;
const TARGET_P95_MS = 20;
const CLOUDFLARE_P50_MS = 36;
/** Each credential may make 600 requests a minute: a fresh key every this many requests. */
const REQUESTS_PER_KEY = 450;

const CHAIN = chain(20);
const FAN = fanOut(10, 2);
const SINGLE = chain(1);
const SHAPES = [SINGLE, CHAIN, FAN];

interface Execution {
  id: string;
  status: string;
  output: unknown;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}
interface Detail extends Execution {
  steps: { stepId: string; status: string; startedAt: string | null }[];
}

/** One timed execution; times in epoch milliseconds, Node's clock and the object's. */
interface Sample {
  sent: number;
  accepted: number;
  doneSeen: number;
  started: number;
  finished: number;
  /** `updated_at` of the execution's row: set by the object's last write to PostgreSQL's copy. */
  copied: number;
  /** step_succeeded durationMs, as the event stream reports them. */
  durations: number[];
  /** The object's startedAt of each step, in the order the steps started. */
  stepStarts: number[];
}

/** Epoch milliseconds from Node's sub-millisecond clock. */
const now = () => performance.timeOrigin + performance.now();
const ms = (iso: string | null) => (iso === null ? Number.NaN : Date.parse(iso));
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** JSON with object keys sorted: jsonb does not keep the order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * Reads an execution's event stream to its end: when `done` arrived, its status and every
 * step_succeeded's durationMs.
 *
 * @throws Error on a non-200 answer or a stream that ends without `done`.
 */
async function followEvents(
  url: string,
  headers: Record<string, string>,
): Promise<{ doneAt: number; status: string; durations: number[] }> {
  const res = await fetch(url, { headers });
  if (res.status !== 200 || !res.body) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  const durations: number[] = [];
  let buffer = "";
  let done: { doneAt: number; status: string } | undefined;
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split("\n")
        .find((line) => line.startsWith("data:"))
        ?.slice(5);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      if (!data) continue;
      const event = JSON.parse(data) as { type: string; durationMs?: number; status?: string };
      if (event.type === "step_succeeded") durations.push(event.durationMs ?? Number.NaN);
      if (event.type === "done") done ??= { doneAt: now(), status: event.status ?? "" };
    }
  }
  if (!done) throw new Error(`${url}: the stream ended without done`);
  return { ...done, durations };
}

function p50p95(xs: number[]): { p50: number; p95: number } {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const verdict = (s: { p50: number; p95: number }) =>
  s.p50 <= TARGET_P50_MS && s.p95 <= TARGET_P95_MS ? "met" : "MISSED";
/** Per request, between two readings of the counters. */
function perRequest(from: DatabaseCounters, to: DatabaseCounters, n: number): DatabaseCounters {
  const per = (key: keyof DatabaseCounters, own = 0) => (to[key] - from[key] - own) / n;
  return {
    sessions: per("sessions"),
    // The second reading's own two commits (see Watcher.counters).
    commits: per("commits", 2),
    executionInserts: per("executionInserts"),
    executionUpdates: per("executionUpdates"),
    stepInserts: per("stepInserts"),
    stepUpdates: per("stepUpdates"),
  };
}

const startLoad = machineLoad();
const stack = await startBenchStack("meridian_bench_workflow_steps");
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
// One superuser connection for the whole run; it counts against max_connections like any other.
const watcher = await Watcher.connect(
  process.env.DATABASE_URL ?? superuserUrl(),
  new URL(stack.ownerUrl).pathname.slice(1),
);
let worker: Awaited<ReturnType<typeof startBenchWorker>> | undefined;
try {
  worker = await startBenchWorker({
    script: "bench/workflow-steps/worker.ts",
    port: PORT,
    envName: "bench-workflow-steps.env",
    vars: {
      ...stack.bindings,
      PLATFORM_ADMIN_TOKEN: admin,
      ENVIRONMENT: "development",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    },
  });
  const base = worker.base;
  const cpu = workerdCpu();
  const json = jsonClient(base);
  const tenant = await createBenchTenant(json, admin);
  // The default of 20 executions in progress would refuse most of the burst with 429.
  const maxConcurrent = Math.min(1000, Math.max(20, BURST));
  const patched = await json<{ effectiveLimits: { maxConcurrentWorkflows: number } }>("/v1/tenant", {
    method: "PATCH",
    headers: tenant.owner,
    body: JSON.stringify({ settings: { defaultLimits: { maxConcurrentWorkflows: maxConcurrent } } }),
  });
  const sequentialRequests = (ITERATIONS + WARMUP) * SHAPES.length * 3 + 3 * COUNTED;
  const sequentialKeys = Math.ceil(sequentialRequests / REQUESTS_PER_KEY);
  const keys = await createApiKeys(
    json,
    tenant.owner,
    sequentialKeys + Math.ceil(BURST / REQUESTS_PER_KEY),
    "member",
  );
  let requests = 0;
  const nextKey = () => keys[Math.floor(requests++ / REQUESTS_PER_KEY)] as { authorization: string };
  const createWorkflow = async (name: string, shape: Shape) =>
    (
      await json<{ id: string }>("/v1/workflows", {
        method: "POST",
        headers: tenant.owner,
        body: JSON.stringify({ name, definition: shape.definition }),
      })
    ).id;
  const workflowIds = new Map<Shape, string>();
  for (const shape of SHAPES) workflowIds.set(shape, await createWorkflow(`bench ${shape.name}`, shape));
  const burstWorkflow = await createWorkflow("bench burst", CHAIN);
  const post = (workflowId: string, key: { authorization: string }, idempotencyKey?: string) =>
    fetch(`${base}/v1/workflows/${workflowId}/execute`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...key,
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
      },
      body: JSON.stringify({ input: INPUT }),
    });

  // --- the clock: does workerd's Date.now() move while the CPU works and no I/O happens? ---
  const clock: { dateMs: number; perfMs: number; clientMs: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const sent = performance.now();
    const answer = await json<{ dateMs: number; perfMs: number }>("/__bench/clock?spins=30000000");
    clock.push({ ...answer, clientMs: performance.now() - sent });
  }
  const clockMoves = clock.every((c) => c.dateMs > 5 && c.dateMs > 0.5 * c.clientMs);

  // --- one execution at a time ---
  const execute = async (shape: Shape): Promise<{ sample: Sample; plainMs: number }> => {
    const plain = runPlain(shape, INPUT);
    const key = nextKey();
    const sent = now();
    const res = await post(workflowIds.get(shape) as string, key);
    const accepted = now();
    const body = (await res.json()) as Execution;
    if (res.status !== 202) throw new Error(`execute answered ${res.status}: ${JSON.stringify(body)}`);
    const events = await followEvents(`${base}/v1/workflow-executions/${body.id}/events`, nextKey());
    if (events.status !== "succeeded") throw new Error(`${shape.name}: the execution ended ${events.status}`);
    // Answers once PostgreSQL's copy has caught up (the route flushes the object's records first).
    const detail = await json<Detail>(`/v1/workflow-executions/${body.id}`, { headers: nextKey() });
    if (detail.status !== "succeeded" || detail.steps.length !== shape.steps) {
      throw new Error(`${shape.name}: ${detail.status} with ${detail.steps.length} of ${shape.steps} steps`);
    }
    const branches = (output: unknown) => (output as { branches: unknown }).branches;
    const got = shape === FAN ? branches(detail.output) : detail.output;
    const want = shape === FAN ? branches(plain.output) : plain.output;
    if (canonical(got) !== canonical(want)) {
      throw new Error(`${shape.name}: the execution answered ${canonical(got)}, the loop ${canonical(want)}`);
    }
    return {
      plainMs: plain.ms,
      sample: {
        sent,
        accepted,
        doneSeen: events.doneAt,
        started: ms(detail.startedAt),
        finished: ms(detail.finishedAt),
        copied: ms(detail.updatedAt),
        durations: events.durations,
        stepStarts: detail.steps.map((s) => ms(s.startedAt)),
      },
    };
  };

  const samples = new Map<Shape, Sample[]>(SHAPES.map((s) => [s, []]));
  const plain = new Map<Shape, number[]>(SHAPES.map((s) => [s, []]));
  const sequentialStarted = performance.now();
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (let k = 0; k < SHAPES.length; k++) {
      const shape = SHAPES[(i + k) % SHAPES.length] as Shape;
      const { sample, plainMs } = await execute(shape);
      if (i < WARMUP) continue;
      samples.get(shape)?.push(sample);
      plain.get(shape)?.push(plainMs);
    }
  }
  const sequentialSeconds = (performance.now() - sequentialStarted) / 1000;

  // --- PostgreSQL sessions, commits and rows, and workerd CPU, per request, nothing else running ---
  const counts: { label: string; cpuMs: number; db: DatabaseCounters }[] = [];
  const count = async (label: string, request: () => Promise<string | undefined>) => {
    await sleep(SETTLE_MS);
    const before = await watcher.counters();
    const cpuBefore = cpu();
    const started: string[] = [];
    for (let i = 0; i < COUNTED; i++) {
      const id = await request();
      if (id) started.push(id);
    }
    // Long enough for the copies to be written and every session to end and report.
    await sleep(SETTLE_MS);
    const cpuMs = (cpu() - cpuBefore) / COUNTED;
    const db = perRequest(before, await watcher.counters(), COUNTED);
    if ((await watcher.stillActive(started)) > 0) {
      throw new Error(`${label}: PostgreSQL's copy was not complete ${SETTLE_MS} ms after the last start`);
    }
    counts.push({ label, cpuMs, db });
  };
  await count(`GET /v1/workflows/{id} (for comparison)`, async () => {
    await json(`/v1/workflows/${workflowIds.get(CHAIN)}`, { headers: nextKey() });
    return undefined;
  });
  for (const shape of [SINGLE, CHAIN]) {
    await count(`POST execute, ${shape.name}, nothing read back`, async () => {
      const res = await post(workflowIds.get(shape) as string, nextKey());
      const body = (await res.json()) as Execution;
      if (res.status !== 202) throw new Error(`execute answered ${res.status}: ${JSON.stringify(body)}`);
      return body.id;
    });
  }

  // --- BURST executions started at once ---
  if ((await watcher.activeExecutions()) > 0) throw new Error("executions still active before the burst");
  const limits = await watcher.connectionLimits();
  const seen = { server: 0, database: 0, advisory: 0, samples: 0 };
  let watching = true;
  const sampling = (async () => {
    while (watching) {
      const a = await watcher.activity();
      seen.server = Math.max(seen.server, a.server);
      seen.database = Math.max(seen.database, a.database);
      seen.advisory = Math.max(seen.advisory, a.advisory);
      seen.samples++;
      await sleep(20);
    }
  })();
  const burstKeys = keys.slice(sequentialKeys);
  const burstCpu = cpu();
  const burstStarted = now();
  const posts = await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      const sent = now();
      // As a client should: a 503 (PostgreSQL full) is retried after its Retry-After, with the
      // same Idempotency-Key so a start that did commit is not made twice.
      const idempotencyKey = crypto.randomUUID();
      const authorization = burstKeys[Math.floor(i / REQUESTS_PER_KEY)] as { authorization: string };
      let res = await post(burstWorkflow, authorization, idempotencyKey);
      let retries = 0;
      while (res.status === 503 && retries < BURST_RETRIES) {
        await res.arrayBuffer();
        retries++;
        await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        res = await post(burstWorkflow, authorization, idempotencyKey);
      }
      const body = (await res.json()) as Execution & { code?: string; detail?: string };
      return {
        sent,
        answered: now(),
        status: res.status,
        retries,
        id: res.status === 202 ? body.id : undefined,
        refused: res.status === 202 ? undefined : `${res.status} ${body.code}: ${body.detail}`,
      };
    }),
  );
  const ids = posts.flatMap((p) => (p.id ? [p.id] : []));
  // Polled straight from PostgreSQL, so waiting adds no requests to the Worker under test.
  let copiesSeen = Number.NaN;
  for (;;) {
    const active = await watcher.stillActive(ids);
    if (active === 0) {
      copiesSeen = now();
      break;
    }
    if (now() - burstStarted > BURST_TIMEOUT_MS) {
      throw new Error(
        `after ${BURST_TIMEOUT_MS / 1000}s ${active} of ${ids.length} executions are still active`,
      );
    }
    await sleep(25);
  }
  const burstCpuMs = cpu() - burstCpu;
  watching = false;
  await sampling;
  const listed: Execution[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: Execution[]; nextCursor: string | null } = await json(
      `/v1/workflow-executions?workflowId=${burstWorkflow}&limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      { headers: tenant.owner },
    );
    listed.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);

  // --- report ---
  console.log(
    `workflow-steps: ${ITERATIONS} executions per shape, one at a time in rotating order, after ${WARMUP} ` +
      `warm-up rounds (${fmt(sequentialSeconds, 1)} s); then ${BURST} executions of the chain of 20 started at once`,
  );
  console.log(stack.describe.join("; "));
  console.log(`machine at the start: ${startLoad}; at the end: ${machineLoad()}`);
  console.log(
    `tenant: settings.defaultLimits.maxConcurrentWorkflows = ${maxConcurrent} through PATCH /v1/tenant ` +
      `(in force: ${patched.effectiveLimits.maxConcurrentWorkflows}; platform default 20, maximum 1000)`,
  );
  console.log(
    `clock: a ${fmt(mean(clock.map((c) => c.clientMs)), 0)} ms CPU-only spin in the Worker moved Date.now() by ` +
      `${clock.map((c) => fmt(c.dateMs, 0)).join("/")} ms: ${
        clockMoves
          ? "workerd's clock moves during CPU work under wrangler dev, so the object's timestamps include CPU time"
          : "the clock stood still, so the object's timestamps leave CPU-only time out"
      }`,
  );
  console.log("");

  console.log(
    "Per execution, ms (sent: the POST left Node; done, started, copy: the object's own timestamps):",
  );
  const rows: string[][] = [];
  for (const shape of SHAPES) {
    const xs = samples.get(shape) ?? [];
    const add = (mark: string, of: (s: Sample) => number) => {
      const s = p50p95(xs.map(of));
      rows.push([shape.name, mark, fmt(s.p50), fmt(s.p95)]);
    };
    add("sent → 202", (s) => s.accepted - s.sent);
    add("sent → object started", (s) => s.started - s.sent);
    add("object started → done", (s) => s.finished - s.started);
    add("sent → done", (s) => s.finished - s.sent);
    add("sent → done seen on the event stream", (s) => s.doneSeen - s.sent);
    add("sent → PostgreSQL copy written", (s) => s.copied - s.sent);
  }
  printTable(["shape", "mark", "p50", "p95"], rows);
  const before202 = SHAPES.map((shape) => {
    const xs = samples.get(shape) ?? [];
    return `${shape.name} ${xs.filter((s) => s.finished <= s.accepted).length}/${xs.length}`;
  });
  console.log(`done before the 202 reached Node: ${before202.join(", ")}`);
  console.log("");

  console.log(
    `Per step, ms (target p50 ≤ ${TARGET_P50_MS} and p95 ≤ ${TARGET_P95_MS}; ` +
      `Cloudflare Workflows: ~${CLOUDFLARE_P50_MS} at p50):`,
  );
  const singles = samples.get(SINGLE) ?? [];
  const stepRows: string[][] = [];
  for (const shape of [CHAIN, FAN]) {
    const xs = samples.get(shape) ?? [];
    const baseline = p50p95((plain.get(shape) ?? []).map((m) => m / shape.steps));
    stepRows.push([
      shape.name,
      "baseline: resolveValue loop in Node",
      fmt(baseline.p50, 4),
      fmt(baseline.p95, 4),
      "1.0",
      "",
    ]);
    const row = (label: string, values: number[]) => {
      const s = p50p95(values);
      stepRows.push([
        shape.name,
        label,
        fmt(s.p50, 3),
        fmt(s.p95, 3),
        fmt(s.p50 / baseline.p50, 1),
        verdict(s),
      ]);
    };
    row(
      "object: (started → done) / steps",
      xs.map((s) => (s.finished - s.started) / shape.steps),
    );
    row(
      "object: gap between step starts",
      xs.flatMap((s) => s.stepStarts.slice(1).map((t, i) => t - (s.stepStarts[i] ?? t))),
    );
    row(
      "object: step_succeeded durationMs",
      xs.flatMap((s) => s.durations),
    );
    // Paired with the chain of 1 of the same round: what each further step adds, end to end.
    const extra = shape.steps - 1;
    row(
      `wall: (sent → done) − chain of 1's, / ${extra}`,
      xs.map((s, i) => {
        const one = singles[i] as Sample;
        return (s.finished - s.sent - (one.finished - one.sent)) / extra;
      }),
    );
    row(
      "wall: (sent → done) / steps",
      xs.map((s) => (s.finished - s.sent) / shape.steps),
    );
    row(
      "wall: (sent → PostgreSQL copy) / steps",
      xs.map((s) => (s.copied - s.sent) / shape.steps),
    );
  }
  printTable(["shape", "per step", "p50", "p95", "p50 ratio", "target"], stepRows);
  console.log("");

  console.log(
    `Per request, ${COUNTED} of each one at a time, each until its copy is written ` +
      "(PostgreSQL: pg_stat_database and pg_stat_user_tables of the bench database):",
  );
  printTable(
    ["request", "workerd CPU ms", "sessions", "commits", "execution rows ins/upd", "step rows ins/upd"],
    counts.map(({ label, cpuMs, db }) => [
      label,
      fmt(cpuMs, 1),
      fmt(db.sessions, 1),
      fmt(db.commits, 1),
      `${fmt(db.executionInserts, 1)}/${fmt(db.executionUpdates, 1)}`,
      `${fmt(db.stepInserts, 1)}/${fmt(db.stepUpdates, 1)}`,
    ]),
  );
  const [, one, twenty] = counts;
  if (one && twenty) {
    console.log(
      `workerd CPU per step, all of it (route, object, copy): (chain of 20 − chain of 1) / 19 = ` +
        `${fmt((twenty.cpuMs - one.cpuMs) / 19, 3)} ms`,
    );
  }
  console.log("");

  const codes = new Map<number, number>();
  for (const p of posts) codes.set(p.status, (codes.get(p.status) ?? 0) + 1);
  const statuses = new Map<string, number>();
  for (const e of listed) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
  const refusals = new Map<string, number>();
  for (const p of posts) if (p.refused) refusals.set(p.refused, (refusals.get(p.refused) ?? 0) + 1);
  const byId = new Map(listed.map((e) => [e.id, e]));
  const burst = posts.flatMap((p) => {
    const e = p.id ? byId.get(p.id) : undefined;
    return e ? [{ ...p, started: ms(e.startedAt), finished: ms(e.finishedAt), copied: ms(e.updatedAt) }] : [];
  });
  const after = (t: number) => fmt(t - burstStarted, 0);
  console.log(
    `Burst: ${BURST} POSTs at once: ${[...codes].map(([c, n]) => `${n}× ${c}`).join(", ")}; ` +
      `by status afterwards (GET /v1/workflow-executions): ${[...statuses].map(([s, n]) => `${n} ${s}`).join(", ")}`,
  );
  for (const [why, n] of refusals) console.log(`  refused ${n}×: ${why}`);
  const retried = posts.filter((p) => p.retries > 0);
  console.log(
    `  retried after 503 (database full): ${retried.length} starts, ${retried.reduce((n, p) => n + p.retries, 0)} retries`,
  );
  console.log(
    `wall time from the first POST: last 202 after ${after(Math.max(...posts.map((p) => p.answered)))} ms, ` +
      `last done ${after(Math.max(...burst.map((b) => b.finished)))} ms, last PostgreSQL copy ` +
      `${after(Math.max(...burst.map((b) => b.copied)))} ms (seen by polling at ${after(copiesSeen)} ms); ` +
      `workerd CPU ${fmt(burstCpuMs, 0)} ms (${fmt(burstCpuMs / Math.max(1, ids.length), 1)} per execution accepted)`,
  );
  console.log(
    `PostgreSQL meanwhile (${seen.samples} samples of pg_stat_activity): up to ${seen.server} client connections ` +
      `on the server (max_connections ${limits.max}, ${limits.reserved} of them for superusers only), ` +
      `${seen.database} on the bench database, ${seen.advisory} waiting on an advisory lock at once`,
  );
  const burstTable: string[][] = [];
  const burstRow = (label: string, values: number[]) => {
    const s = p50p95(values);
    burstTable.push([label, fmt(s.p50), fmt(s.p95), fmt(Math.max(...values))]);
  };
  burstRow(
    "sent → 202 (all answers)",
    posts.map((p) => p.answered - p.sent),
  );
  burstRow(
    "sent → object started",
    burst.map((b) => b.started - b.sent),
  );
  burstRow(
    "object started → done",
    burst.map((b) => b.finished - b.started),
  );
  burstRow(
    "sent → done",
    burst.map((b) => b.finished - b.sent),
  );
  burstRow(
    "sent → PostgreSQL copy written",
    burst.map((b) => b.copied - b.sent),
  );
  burstRow(
    `object: (started → done) / ${CHAIN.steps} steps`,
    burst.map((b) => (b.finished - b.started) / CHAIN.steps),
  );
  printTable(["burst, ms per execution", "p50", "p95", "max"], burstTable);
  const accepted = ids.length;
  const succeeded = burst.filter((b) => byId.get(b.id as string)?.status === "succeeded").length;
  console.log(
    `accepted ${accepted} of ${BURST}; of those, ${succeeded} succeeded. ` +
      `All ${BURST} started and finished: ${accepted === BURST && succeeded === BURST ? "yes" : "NO"}`,
  );
  if (accepted !== BURST || succeeded !== BURST) process.exitCode = 1;
} finally {
  worker?.stop();
  await watcher.end().catch(() => undefined);
  await stack.close();
}
