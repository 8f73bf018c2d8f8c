/**
 * The load driver, run by bench/load/run.ts as a child process of its own: the local stack's
 * relays and the model server live in the parent's event loop, and the driver's timers must not
 * queue behind them (nor they behind the driver). It receives a `DrivePlan` over IPC, runs the
 * warm-up and then the measured phase, and sends a `DriveResult` back.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { seededRandom } from "../rag-search/corpus.ts";
import { Phase } from "./client.ts";
import type { DrivePlan, DriveResult, DriverMessage, WorkflowRun } from "./plan.ts";
import { pickScenario, scenarios, type VirtualUser } from "./scenarios.ts";

const LOOP_RESOLUTION_MS = 10;

/** Every virtual user loops over iterations until the phase is over; resolves when all have stopped. */
async function runPhase(plan: DrivePlan, phase: Phase, workflows: WorkflowRun[] | undefined): Promise<void> {
  const { options, tenants } = plan;
  const users = Array.from({ length: options.vus }, (_, i): VirtualUser => {
    const tenant = tenants[i % tenants.length] as DrivePlan["tenants"][number];
    return {
      base: plan.base,
      tenant,
      key: tenant.keys[Math.floor(i / tenants.length)] as string,
      phase,
      random: seededRandom(1000 + i),
      pollWorkflows: options.pollWorkflows,
      workflows,
    };
  });
  await Promise.all(
    users.map(async (vu) => {
      while (!phase.over) await scenarios[pickScenario(vu.random, options.mix)](vu);
    }),
  );
}

function tell(message: DriverMessage, then: () => void = () => undefined): void {
  process.send?.(message, then);
}

async function drive(plan: DrivePlan): Promise<DriveResult> {
  const { options } = plan;
  if (options.warmupSeconds > 0) {
    await runPhase(
      plan,
      new Phase(performance.now() + options.warmupSeconds * 1000, Infinity, options.timeoutMs),
      undefined,
    );
  }
  tell({ kind: "measuring" });
  const cpu = process.cpuUsage();
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  delay.enable();
  const started = performance.now();
  const phase = new Phase(started + options.durationSeconds * 1000, options.maxRequests, options.timeoutMs);
  const workflows: WorkflowRun[] = [];
  await runPhase(plan, phase, workflows);
  const elapsedMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  delay.disable();
  // The histogram holds whole intervals between checks; what is past the resolution is lateness.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  return {
    samples: phase.samples,
    workflows,
    elapsedMs,
    loopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    cpuMs: (user + system) / 1000,
  };
}

process.once("message", (plan: DrivePlan) => {
  drive(plan).then(
    (result) => tell({ kind: "result", result }, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
