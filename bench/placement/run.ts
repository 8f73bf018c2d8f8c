/**
 * A latency model of where the Worker runs relative to PostgreSQL, for docs/scaling.md. It
 * starts no servers: each request class is its sequential round trips (counted in the code, see
 * docs/benchmarks.md) times the network distance each placement puts between the hops, plus the
 * CPU time measured locally. It prints the modelled latency per user region and placement.
 *
 *   npm run bench:placement
 */
import { printTable } from "../shared.ts";

type Region = "us-east" | "us-west" | "eu-west" | "ap-southeast";
const REGIONS: Region[] = ["us-east", "us-west", "eu-west", "ap-southeast"];

/**
 * Typical round-trip times between cloud regions, in ms (public inter-region latency tables
 * put these within about 10 % of each other). The same region is 1 ms.
 */
const RTT: Record<Region, Record<Region, number>> = {
  "us-east": { "us-east": 1, "us-west": 62, "eu-west": 75, "ap-southeast": 215 },
  "us-west": { "us-east": 62, "us-west": 1, "eu-west": 135, "ap-southeast": 165 },
  "eu-west": { "us-east": 75, "us-west": 135, "eu-west": 1, "ap-southeast": 160 },
  "ap-southeast": { "us-east": 215, "us-west": 165, "eu-west": 160, "ap-southeast": 1 },
};
/** A user to the nearest Cloudflare location. */
const USER_TO_EDGE_MS = 12;
/** The database's primary region. */
const PRIMARY: Region = "us-east";

interface RequestClass {
  name: string;
  /** Sequential PostgreSQL round trips that must reach the primary (writes, and reads that follow them). */
  primaryRoundTrips: number;
  /** Sequential round trips that only read and could go to a replica. */
  readRoundTrips: number;
  /** Redis hops not overlapped with PostgreSQL (the rate limits overlap the connection setup). */
  redisHops: number;
  /** Worker CPU, measured locally (docs/benchmarks.md, bench:api-overhead and bench:agent-overhead). */
  cpuMs: number;
}

/**
 * Round trips per request, as docs/benchmarks.md counts them. The connection's set-up (the
 * WebSocket, TLS and PostgreSQL start-up: 3 round trips) is counted for every request, as the
 * Neon driver opens one connection per request.
 */
const CLASSES: RequestClass[] = [
  // Key lookup, tenant transaction opening, the select (read-only: no COMMIT).
  { name: "GET /v1/agents/{id} (API key)", primaryRoundTrips: 0, readRoundTrips: 3, redisHops: 0, cpuMs: 3 },
  // Lookup, opening, insert agent, insert version, count quota, audit, COMMIT.
  { name: "POST /v1/agents", primaryRoundTrips: 10, readRoundTrips: 0, redisHops: 0, cpuMs: 4 },
  // Lookup, the prepare transaction's 9 round trips, plus the run's first hold (opening, hold, COMMIT).
  {
    name: "POST /v1/agents/{id}/execute, to the first model call",
    primaryRoundTrips: 16,
    readRoundTrips: 0,
    redisHops: 1,
    cpuMs: 8,
  },
  // Search: lookup, opening, collections, the hybrid query (the embedding is computed before).
  { name: "POST /v1/rag/search", primaryRoundTrips: 0, readRoundTrips: 4, redisHops: 1, cpuMs: 6 },
];

/** Connection set-up: WebSocket upgrade over TLS, then PostgreSQL's start-up and authentication. */
const CONNECT_ROUND_TRIPS = 3;

type Placement =
  | "edge, primary only"
  | "Smart Placement (next to the primary)"
  | "edge, read replica in region";
const PLACEMENTS: Placement[] = [
  "edge, primary only",
  "Smart Placement (next to the primary)",
  "edge, read replica in region",
];

function latency(c: RequestClass, user: Region, placement: Placement): number {
  const toEdge = USER_TO_EDGE_MS;
  const redis = c.redisHops * 2; // a global Redis replica near every location
  switch (placement) {
    case "edge, primary only": {
      const hops = CONNECT_ROUND_TRIPS + c.primaryRoundTrips + c.readRoundTrips;
      return toEdge + redis + c.cpuMs + hops * RTT[user][PRIMARY];
    }
    case "Smart Placement (next to the primary)": {
      // One trip from the edge to the Worker near the database, then every round trip is local.
      const hops = CONNECT_ROUND_TRIPS + c.primaryRoundTrips + c.readRoundTrips;
      return toEdge + RTT[user][PRIMARY] + redis + c.cpuMs + hops * RTT[PRIMARY][PRIMARY];
    }
    case "edge, read replica in region": {
      // A request that only reads stays on the replica; one that writes goes to the primary.
      if (c.primaryRoundTrips > 0) return latency(c, user, "edge, primary only");
      const replica = CONNECT_ROUND_TRIPS + c.readRoundTrips;
      return toEdge + redis + c.cpuMs + replica * RTT[user][user];
    }
  }
}

console.log(`Modelled latency in ms (primary in ${PRIMARY}; ${USER_TO_EDGE_MS} ms user to edge).\n`);
for (const c of CLASSES) {
  console.log(
    `${c.name}: ${c.primaryRoundTrips + c.readRoundTrips} sequential database round trips + connect`,
  );
  printTable(
    ["placement", ...REGIONS.map((r) => `user in ${r}`)],
    PLACEMENTS.map((p) => [p, ...REGIONS.map((r) => latency(c, r, p).toFixed(0))]),
  );
  console.log("");
}
