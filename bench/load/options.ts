/**
 * The load run's command line: how long, how many requests at most, how many virtual users over
 * how many tenants, and the scenario mix.
 */
import { parseArgs } from "node:util";

export const SCENARIOS = ["crud", "lists", "search", "agent", "workflow"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface LoadOptions {
  /** Seconds of measured load. */
  durationSeconds: number;
  /** Seconds of the same load before it, not measured (connections, isolates, plans warm up). */
  warmupSeconds: number;
  /** Measured requests at most; the run ends at whichever bound comes first. */
  maxRequests: number;
  /** Virtual users: each sends one request at a time, with no pause between them. */
  vus: number;
  tenants: number;
  /** Relative weight of each scenario when a virtual user picks its next iteration. */
  mix: Record<ScenarioName, number>;
  /** A request still unanswered after this many milliseconds counts as a timeout. */
  timeoutMs: number;
  /** Follow each workflow execution with GETs until it ends (its polls count as requests). */
  pollWorkflows: boolean;
  /** Documents seeded into each tenant's collection. */
  documents: number;
  port: number;
}

const DEFAULT_MIX: Record<ScenarioName, number> = {
  crud: 20,
  lists: 30,
  search: 25,
  agent: 15,
  workflow: 10,
};

const USAGE = `npm run bench:load -- [options]

  --duration <s>       measured seconds (default 30)
  --warmup <s>         unmeasured seconds of the same load first (default 5)
  --max-requests <n>   measured requests at most (default 50000)
  --vus <n>            virtual users, spread over the tenants (default 16)
  --tenants <n>        tenants (default 4)
  --mix <list>         scenario weights, e.g. crud=20,lists=30,search=25,agent=15,workflow=10
  --timeout <ms>       per-request timeout (default 30000)
  --no-poll            start workflows without following them to their end
  --documents <n>      documents per tenant's collection, 1-100 (default 8)
  --port <n>           wrangler dev's port (default BENCH_PORT or 8793)
`;

function integer(name: string, value: string | undefined, fallback: number, min = 1, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, not ${value}\n\n${USAGE}`);
  }
  return n;
}

function parseMix(value: string | undefined): Record<ScenarioName, number> {
  if (value === undefined) return { ...DEFAULT_MIX };
  const mix = Object.fromEntries(SCENARIOS.map((s) => [s, 0])) as Record<ScenarioName, number>;
  for (const part of value.split(",")) {
    const [name, weight] = part.split("=");
    if (!SCENARIOS.includes(name as ScenarioName) || !(Number(weight) >= 0)) {
      throw new Error(
        `--mix: "${part}" is not <scenario>=<weight> with a scenario of ${SCENARIOS.join(", ")}`,
      );
    }
    mix[name as ScenarioName] = Number(weight);
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error("--mix: every weight is 0");
  return mix;
}

/**
 * Reads the options from `argv` (without node and the script).
 *
 * @throws Error with the usage when an option is unknown or out of range.
 */
export function parseOptions(argv: string[]): LoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string" },
      warmup: { type: "string" },
      "max-requests": { type: "string" },
      vus: { type: "string" },
      tenants: { type: "string" },
      mix: { type: "string" },
      timeout: { type: "string" },
      "no-poll": { type: "boolean" },
      documents: { type: "string" },
      port: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const tenants = integer("tenants", values.tenants, 4);
  const vus = integer("vus", values.vus, 16);
  if (vus < tenants)
    throw new Error(`--vus (${vus}) must be at least --tenants (${tenants}): each tenant needs one`);
  return {
    durationSeconds: integer("duration", values.duration, 30),
    warmupSeconds: integer("warmup", values.warmup, 5, 0),
    maxRequests: integer("max-requests", values["max-requests"], 50_000),
    vus,
    tenants,
    mix: parseMix(values.mix),
    timeoutMs: integer("timeout", values.timeout, 30_000),
    pollWorkflows: !values["no-poll"],
    documents: integer("documents", values.documents, 8, 1, 100),
    port: integer("port", values.port, Number(process.env.BENCH_PORT ?? 8793)),
  };
}
