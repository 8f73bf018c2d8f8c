import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { mcpServerRegistry, mcpServers } from "../../../db/schema/mcp";
import { checkRemoteMcpUrl } from "../../../mcp/client/policy";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateMcpDiscoveryAfterCommit } from "../../cache/mcp-discovery";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { applyAuthChange, authChangeOf, authKind, refineAuth } from "./credentials";
import { claimServerName, loadMcpServer } from "./load";
import {
  authHeaders,
  authSecretName,
  authToken,
  mcpServerSchema,
  serverDescription,
  serverName,
  serverStatus,
  serverTransport,
  serverUrl,
  toMcpServerResponse,
} from "./schemas";

const body = z
  .object({
    name: serverName.optional(),
    description: serverDescription.optional(),
    url: serverUrl.optional(),
    transport: serverTransport.optional(),
    status: serverStatus.optional(),
    authSecretName: authSecretName.optional(),
    authToken: authToken.optional(),
    headers: authHeaders.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .superRefine(refineAuth)
  .openapi("UpdateMcpServerRequest", {
    description:
      "Fields not sent are kept. Sending any of `authSecretName`, `authToken`, `headers` replaces the " +
      "credential as a whole (send them all null, or `authToken: null` alone, to remove it).",
  });

const route = createRoute({
  operationId: "updateMcpServer",
  tags: ["mcp-servers"],
  method: "patch",
  path: "/v1/mcp/servers/{id}",
  summary: "Change a remote MCP server",
  description:
    "A new URL is checked like at registration (422). Changing the URL, transport or credential drops " +
    "the cached discovery and health, since they described the old endpoint.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "MCP server") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "The updated server.", content: { "application/json": { schema: mcpServerSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500),
  },
});

export function registerUpdateMcpServer(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    const { server: current, registry } = await loadMcpServer(db, c.req.valid("param").id, {
      forUpdate: true,
    });
    if (input.url !== undefined) checkRemoteMcpUrl(input.url, c.get("config"));
    if (input.name !== undefined && input.name !== current.name)
      await claimServerName(db, input.name, current.id);

    const change = authChangeOf(input);
    const secretName =
      change.kind === "keep"
        ? current.authSecretName
        : await applyAuthChange(db, c.get("config"), current.id, current.authSecretName, change);

    const next = {
      name: input.name ?? current.name,
      description: input.description === undefined ? current.description : input.description,
      url: input.url ?? current.url,
      transport: input.transport ?? current.transport,
      status: input.status ?? current.status,
      authSecretName: secretName,
    };
    const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== current[k]);
    // An inline credential keeps its secret's name when its value changes: count it as changed.
    if (change.kind === "inline" && !changed.includes("authSecretName")) changed.push("authSecretName");
    if (changed.length === 0) return c.json(toMcpServerResponse(current, registry), 200);

    invalidateMcpDiscoveryAfterCommit(c);
    const [updated] = await db.update(mcpServers).set(next).where(eq(mcpServers.id, current.id)).returning();
    if (!updated) throw new ApiError("NOT_FOUND", { detail: `MCP server ${current.id} not found.` });
    const endpointChanged = changed.some((k) => k === "url" || k === "transport" || k === "authSecretName");
    if (endpointChanged) {
      await db
        .delete(mcpServerRegistry)
        .where(and(eq(mcpServerRegistry.tenantId, db.tenantId), eq(mcpServerRegistry.serverId, current.id)));
    }
    await audit(c, {
      action: "mcp_server.update",
      resourceType: "mcp_server",
      resourceId: current.id,
      changes: {
        fields: changed.map((k) => (k === "authSecretName" ? "auth" : k)),
        ...(changed.includes("status") ? { status: next.status } : {}),
        ...(changed.includes("authSecretName") ? { auth: authKind(secretName) } : {}),
      },
    });
    return c.json(toMcpServerResponse(updated, endpointChanged ? null : registry), 200);
  });
}
