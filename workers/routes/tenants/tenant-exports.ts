import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { TENANT_EXPORT_STATUSES, tenantExports } from "../../../db/schema/exports";
import type { TenantDb } from "../../../db/tenant";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { afterCommit } from "../../middleware/tenant-db";
import { loadTenant } from "./load";

const tenantExportSchema = z
  .object({
    id: z.string().uuid(),
    status: z.enum(TENANT_EXPORT_STATUSES),
    rows: z.number().int().nullable().openapi({ description: "Lines in the file, once complete." }),
    bytes: z.number().int().nullable(),
    error: z.string().nullable().openapi({ description: "Why the last attempt failed; it is retried." }),
    createdAt: z.string().datetime(),
    completedAt: z.string().datetime().nullable(),
  })
  .openapi("TenantExport");

type TenantExportRow = typeof tenantExports.$inferSelect;

function toResponse(row: TenantExportRow): z.infer<typeof tenantExportSchema> {
  return {
    id: row.id,
    status: row.status,
    rows: row.rows,
    bytes: row.bytes,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

const params = z.object({ tenantId: uuidParam("tenantId", "tenant") });
const exportParams = params.extend({ exportId: uuidParam("exportId", "export") });

const requestExport = createRoute({
  operationId: "exportTenant",
  tags: ["tenants"],
  method: "post",
  path: "/v1/tenants/{tenantId}/export",
  summary: "Export all of a tenant's data as one NDJSON file (platform admin)",
  description:
    "Written in the background: poll the export until it is `completed`, then download it. One line per row of " +
    "every tenant table (`{table, row}`), then each document original (`{object, contentType, base64}`), then a " +
    "summary. Credentials' hashes, secrets' ciphertext and chunk embeddings are left out (docs/tenant-data.md).",
  security: [{ bearer: [] }],
  request: { params },
  responses: {
    202: { description: "Requested.", content: { "application/json": { schema: tenantExportSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

const getExport = createRoute({
  operationId: "getTenantExport",
  tags: ["tenants"],
  method: "get",
  path: "/v1/tenants/{tenantId}/exports/{exportId}",
  summary: "An export's progress (platform admin)",
  security: [{ bearer: [] }],
  request: { params: exportParams },
  responses: {
    200: { description: "The export.", content: { "application/json": { schema: tenantExportSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

const downloadExport = createRoute({
  operationId: "downloadTenantExport",
  tags: ["tenants"],
  method: "get",
  path: "/v1/tenants/{tenantId}/exports/{exportId}/download",
  summary: "Download a completed export (platform admin)",
  security: [{ bearer: [] }],
  request: { params: exportParams },
  responses: {
    200: { description: "The file.", content: { "application/x-ndjson": { schema: z.string() } } },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

async function loadExport(db: TenantDb, exportId: string): Promise<TenantExportRow> {
  const [row] = await db
    .select()
    .from(tenantExports)
    .where(and(eq(tenantExports.tenantId, db.tenantId), eq(tenantExports.id, exportId)));
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Export ${exportId} not found.` });
  return row;
}

export function registerTenantExports(app: App) {
  app.openapi(requestExport, async (c) => {
    requirePlatformAdmin(c);
    const db = c.get("db");
    const tenant = await loadTenant(db);
    const [row] = await db.insert(tenantExports).values({ tenantId: tenant.id }).returning();
    if (!row) throw new Error("export row not inserted");
    await audit(c, { action: "tenant.export", resourceType: "tenant_export", resourceId: row.id });
    afterCommit(c, () => c.env.JOBS.send({ type: "tenant_export", tenantId: tenant.id, exportId: row.id }));
    c.header("location", `/v1/tenants/${tenant.id}/exports/${row.id}`);
    return c.json(toResponse(row), 202);
  });

  app.openapi(getExport, async (c) => {
    requirePlatformAdmin(c);
    return c.json(toResponse(await loadExport(c.get("db"), c.req.valid("param").exportId)), 200);
  });

  app.openapi(downloadExport, async (c) => {
    requirePlatformAdmin(c);
    const row = await loadExport(c.get("db"), c.req.valid("param").exportId);
    const object =
      row.status === "completed" && row.objectKey ? await c.env.DOCUMENTS.get(row.objectKey) : null;
    if (!object) {
      throw new ApiError("CONFLICT", {
        detail: `Export ${row.id} is ${row.status}; download it once it is completed.`,
      });
    }
    return new Response(object.body, {
      status: 200,
      headers: {
        "content-type": "application/x-ndjson",
        "content-length": String(object.size),
        "content-disposition": `attachment; filename="tenant-export-${row.id}.ndjson"`,
        "cache-control": "no-store",
      },
    }) as never;
  });
}
