import type { Client } from "@neondatabase/serverless";
import { readMetricGauges } from "../../../db/privileged";
import { MCP_HEALTH_STATUSES } from "../../../db/schema/mcp";
import { DOCUMENT_STATUSES } from "../../../db/schema/rag";
import { WORKFLOW_STATUSES } from "../../../db/schema/workflows";
import { type GaugeName, gauges } from "./catalog";
import type { GaugeReading, KnownGaugeLabels } from "./exposition";

/** Every status a gauge can report, so an empty one shows 0 rather than disappearing. */
export const KNOWN_GAUGE_LABELS: KnownGaugeLabels = {
  meridian_documents: DOCUMENT_STATUSES,
  meridian_workflow_executions: WORKFLOW_STATUSES,
  meridian_mcp_servers: MCP_HEALTH_STATUSES,
};

/**
 * The gauges PostgreSQL knows: documents per ingestion stage (backlog and dead letters),
 * workflow executions per status, MCP servers per health. Read at scrape time, not counted as
 * events, so they are right however many messages were redelivered or isolates restarted.
 */
export async function readGauges(client: Client): Promise<GaugeReading[]> {
  const rows = await readMetricGauges(client);
  return rows
    .filter((row): row is typeof row & { metric: GaugeName } => row.metric in gauges)
    .map((row) => ({ metric: row.metric, label: row.label, value: row.value }));
}
