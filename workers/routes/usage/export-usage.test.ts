import { describe, expect, it } from "vitest";
import { usageEvents } from "../../../db/schema/usage";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { newId } from "../../lib/ids";
import { recordUsageEvents, type UsageEvent } from "../../usage/record";
import { withTenantDb } from "../conversations/test-fixtures";
import { EXPORT_PAGE_ROWS } from "./export-usage";

/** `count` tool-call events, each with its own key; the first has a model name that needs CSV quoting. */
function events(count: number): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    eventKey: `mcp_tool_execution:${newId()}:tool_calls`,
    meter: "tool_calls" as const,
    quantity: 1,
    unit: "calls" as const,
    costMicroUsd: i,
    model: i === 0 ? 'a "quoted", model\nname' : null,
    resourceType: "mcp_tool_execution",
    resourceId: newId(),
  }));
}

async function exportText(
  token: string,
  query: string,
): Promise<{ status: number; type: string; text: string }> {
  const res = await api.get<string>(`/v1/usage/export${query}`, { token });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: res.body };
}

/** RFC 4180 rows (fields may hold quoted commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  return rows;
}

describe("GET /v1/usage/export", () => {
  it("streams every event of the period across pages, as CSV and as NDJSON, matching the table", async () => {
    const { tenant, token } = await createTenant();
    const other = await createTenant();
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, events(EXPORT_PAGE_ROWS + 7)));
    await withTenantDb(other.tenant.id, (db) => recordUsageEvents(db, events(3)));
    const rows = await withTenantDb(tenant.id, (db) => db.select().from(usageEvents));
    const ids = rows.map((r) => r.id).sort();

    const csv = await exportText(token, "?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const [header, ...records] = parseCsv(csv.text);
    expect(header?.[0]).toBe("id");
    expect(records).toHaveLength(rows.length);
    expect(records.map((r) => r[0]).sort()).toEqual(ids);
    const modelColumn = header?.indexOf("model") ?? -1;
    expect(records.some((r) => r[modelColumn] === 'a "quoted", model\nname')).toBe(true);

    const ndjson = await exportText(token, "?format=ndjson");
    expect(ndjson.type).toBe("application/x-ndjson");
    const objects = ndjson.text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; occurredAt: string; costMicroUsd: number });
    expect(objects.map((o) => o.id).sort()).toEqual(ids);
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
    // Oldest first, and the costs add up to the table's.
    const instants = objects.map((o) => o.occurredAt);
    expect([...instants].sort()).toEqual(instants);
    expect(objects.reduce((sum, o) => sum + o.costMicroUsd, 0)).toBe(
      rows.reduce((s, r) => s + r.costMicroUsd, 0),
    );
  });

  it("exports only the period asked for", async () => {
    const { tenant, token } = await createTenant();
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, events(2)));
    const empty = await exportText(token, "?format=ndjson&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z");
    expect(empty.status).toBe(200);
    expect(empty.text).toBe("");
    const headerOnly = await exportText(token, "?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z");
    expect(parseCsv(headerOnly.text)).toHaveLength(1);
  });

  it("validates the query (400) and is for owners and admins", async () => {
    const { token, keyWithRole } = await createTenant();
    for (const query of [
      "?format=xml",
      "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
      "?from=yesterday",
    ]) {
      const res = await api.get<ProblemBody>(`/v1/usage/export${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
    expect((await api.get("/v1/usage/export", { token: await keyWithRole("member") })).status).toBe(403);
    expect((await api.get("/v1/usage/export")).status).toBe(401);
  });
});
