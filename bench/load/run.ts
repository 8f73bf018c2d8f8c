/**
 * bench/load: mixed traffic over several tenants against `wrangler dev`, k6-style: virtual
 * users, each looping over scenarios drawn by weight (agent CRUD, list pages, RAG searches,
 * agent runs on the local model server, workflow starts followed to their end), one request at
 * a time with no pause, for a bounded time and number of requests. Prints requests,
 * throughput, p50/p95/p99 latency and outcomes per operation, per scenario and overall.
 *
 *   npm run bench:load                                   (30 s, 16 users, 4 tenants)
 *   npm run bench:load -- --duration 60 --vus 8 --tenants 2 --max-requests 5000
 *   npm run bench:load -- --mix search=1,agent=1 --no-poll
 *   npm run bench:load -- --help
 *
 * The stack runs on a database of its own (`meridian_bench_load`, emptied first) and needs the
 * PostgreSQL and Redis servers; the model is always the local model server. The load itself is
 * generated in a child process (bench/load/drive.ts), away from the stack's relays.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { POLICIES } from "../../workers/lib/rate-limit.ts";
import { makeCorpus, seededRandom } from "../rag-search/corpus.ts";
import { jsonClient, machineLoad, startBenchStack, startBenchWorker } from "../shared.ts";
import { workerdCpu } from "../workflow-steps/probes.ts";
import { parseOptions } from "./options.ts";
import type { DrivePlan, DriveResult, DriverMessage } from "./plan.ts";
import { printReport } from "./report.ts";
import { type SeededTenant, seedTenant, waitUntilIndexed } from "./seed.ts";

const INDEXING_TIMEOUT_MS = 180_000;

const options = parseOptions(process.argv.slice(2));
// Against the local model server only: with ANTHROPIC_API_KEY set the stack would use the real
// API, and every agent run and workflow step would be a billed request.
delete process.env.ANTHROPIC_API_KEY;

const startLoad = machineLoad();
const stack = await startBenchStack("meridian_bench_load");
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
let worker: Awaited<ReturnType<typeof startBenchWorker>> | undefined;
let driver: ChildProcess | undefined;
const stopAll = async () => {
  driver?.kill();
  worker?.stop();
  await stack.close();
};
// wrangler runs in a process group of its own, which Ctrl-C does not reach.
process.once("SIGINT", () => {
  void stopAll().finally(() => process.exit(130));
});

try {
  worker = await startBenchWorker({
    script: "workers/index.ts",
    port: options.port,
    envName: "bench-load.env",
    vars: {
      ...stack.bindings,
      PLATFORM_ADMIN_TOKEN: admin,
      ENVIRONMENT: "development",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    },
  });
  const json = jsonClient(worker.base);
  const corpus = makeCorpus(7);
  const random = seededRandom(13);
  const seeded: SeededTenant[] = [];
  const seedStarted = performance.now();
  for (let t = 0; t < options.tenants; t++) {
    seeded.push(
      await seedTenant(json, admin, {
        // Virtual user i belongs to tenant i % tenants and has a key of its own.
        keys: Math.ceil((options.vus - t) / options.tenants),
        documents: options.documents,
        corpus,
        random,
        firstTopic: t * options.documents,
      }),
    );
  }
  await waitUntilIndexed(json, seeded, INDEXING_TIMEOUT_MS);
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const { mix } = options;
  console.log(
    `load: ${new Date().toISOString()}, commit ${commit} (HEAD; the working tree may differ); ${cpus().length} × ` +
      `${cpus()[0]?.model ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}`,
  );
  console.log(stack.describe.join("; "));
  console.log(
    `${options.tenants} tenants × (agent, collection of ${options.documents} indexed documents, ` +
      `research-then-summarise workflow) seeded in ${seedSeconds.toFixed(1)} s; ${options.vus} virtual users ` +
      "(round-robin over the tenants, a member API key each, no think time)",
  );
  console.log(
    `bounds: ${options.durationSeconds} s or ${options.maxRequests} requests after ${options.warmupSeconds} s ` +
      `of warm-up; mix ${Object.entries(mix)
        .map(([s, w]) => `${s}=${w}`)
        .join(
          ",",
        )}; timeout ${options.timeoutMs} ms; workflows ${options.pollWorkflows ? "polled to their end" : "started only"}`,
  );
  console.log(
    `rate limits (the platform default requestsPerMinute, which the load tenants keep): ` +
      `${POLICIES.credential.limit}/${POLICIES.credential.windowSeconds} s per key, ` +
      `${POLICIES.tenant.limit}/${POLICIES.tenant.windowSeconds} s per tenant`,
  );

  const plan: DrivePlan = { base: worker.base, options, tenants: seeded.map((s) => s.plan) };
  const child = fork(fileURLToPath(new URL("./drive.ts", import.meta.url)));
  driver = child;
  // CPU over the measured phase: the Worker (workerd), this process (relays, model server), the driver.
  const workerdMs = workerdCpu();
  let before = { workerd: Number.NaN, stack: process.cpuUsage() };
  const result = await new Promise<DriveResult>((resolve, reject) => {
    child.on("message", (message: DriverMessage) => {
      if (message.kind === "measuring") before = { workerd: workerdMs(), stack: process.cpuUsage() };
      else resolve(message.result);
    });
    child.once("exit", (code) => reject(new Error(`the load driver exited with ${code} before its result`)));
    child.send(plan);
  });
  const stackCpu = process.cpuUsage(before.stack);
  const cpuSeconds = (ms: number) => (ms / 1000).toFixed(1);
  console.log(`machine at the start: ${startLoad}; at the end: ${machineLoad()}`);
  console.log("");
  printReport(result);
  console.log(
    `CPU over the measured ${cpuSeconds(result.elapsedMs)} s: workerd ${cpuSeconds(workerdMs() - before.workerd)} s, ` +
      `relays and model server ${cpuSeconds((stackCpu.user + stackCpu.system) / 1000)} s, load driver ` +
      `${cpuSeconds(result.cpuMs)} s (PostgreSQL, Redis and everything else on the machine not counted)`,
  );
} finally {
  await stopAll();
}
