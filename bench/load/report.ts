/**
 * The load run's tables: per operation, per scenario and overall, the requests, throughput,
 * latency percentiles and outcomes; then the errors by outcome, and the workflows followed to
 * their end.
 */
import { percentile, printTable } from "../shared.ts";
import { SCENARIOS } from "./options.ts";
import type { DriveResult, Sample } from "./plan.ts";
import { POLL_EVERY_MS } from "./scenarios.ts";

const fmt = (n: number, digits = 1) => (Number.isNaN(n) ? "-" : n.toFixed(digits));
const isRefusal = (outcome: string) => outcome.startsWith("429");

/** One row: counts over all samples, latency over the successful ones (as k6's expected responses). */
function row(label: string, samples: Sample[], seconds: number): string[] {
  const ok = samples.filter((s) => s.outcome === "ok");
  const refused = samples.filter((s) => isRefusal(s.outcome)).length;
  const sorted = ok.map((s) => s.ms).sort((a, b) => a - b);
  return [
    label,
    String(samples.length),
    fmt(samples.length / seconds),
    String(ok.length),
    String(refused),
    String(samples.length - ok.length - refused),
    fmt(percentile(sorted, 50)),
    fmt(percentile(sorted, 95)),
    fmt(percentile(sorted, 99)),
    fmt(sorted.at(-1) ?? Number.NaN),
  ];
}

function count<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  return counts;
}

export function printReport(result: DriveResult): void {
  const seconds = result.elapsedMs / 1000;
  const { samples } = result;
  console.log(
    `${samples.length} requests in ${fmt(seconds, 2)} s. Latency: successful requests only, ms, from just ` +
      "before fetch() to the last byte of the body; 429 = refused by a rate or concurrency limit; errors = " +
      "every other outcome (listed below).",
  );
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    const ofScenario = samples.filter((s) => s.scenario === scenario);
    if (ofScenario.length === 0) continue;
    const operations = [...new Set(ofScenario.map((s) => s.operation))].sort();
    for (const operation of operations) {
      rows.push(
        row(
          `  ${operation}`,
          ofScenario.filter((s) => s.operation === operation),
          seconds,
        ),
      );
    }
    rows.push(row(`${scenario} (all)`, ofScenario, seconds));
  }
  rows.push(row("overall", samples, seconds));
  printTable(
    ["scenario / operation", "requests", "req/s", "ok", "429", "errors", "p50", "p95", "p99", "max"],
    rows,
  );

  const failed = samples.filter((s) => s.outcome !== "ok");
  console.log("");
  if (failed.length === 0) {
    console.log("outcomes other than ok: none");
  } else {
    console.log("outcomes other than ok:");
    printTable(
      ["operation", "outcome", "count"],
      [...count(failed, (s) => `${s.operation}\u0000${s.outcome}`)].map(([key, n]) => [
        ...key.split("\u0000"),
        String(n),
      ]),
    );
  }

  console.log("");
  if (result.workflows.length === 0) {
    console.log("workflows followed to their end: none");
  } else {
    const ended = result.workflows.filter((w) => w.status !== "unfinished").map((w) => w.ms);
    const sorted = ended.sort((a, b) => a - b);
    const statuses = [...count(result.workflows, (w) => w.status)].map(([s, n]) => `${n} ${s}`).join(", ");
    console.log(
      `workflows followed from the start request until a poll saw them end (polled every ${POLL_EVERY_MS} ms): ${statuses}; ` +
        `start → ended p50 ${fmt(percentile(sorted, 50), 0)} ms, p95 ${fmt(percentile(sorted, 95), 0)} ms, ` +
        `p99 ${fmt(percentile(sorted, 99), 0)} ms`,
    );
  }
  const { loopDelay } = result;
  console.log(
    `driver event loop late by p50 ${fmt(loopDelay.p50)} ms, p99 ${fmt(loopDelay.p99)} ms, max ${fmt(loopDelay.max)} ms ` +
      "(time the load generator's own CPU work may have added to its timings)",
  );
}
