import { createRoute, z } from "@hono/zod-openapi";
import { mcpServers } from "../../../db/schema/mcp";
import { checkRemoteMcpUrl } from "../../../mcp/client/policy";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { invalidateMcpDiscoveryAfterCommit } from "../../cache/mcp-discovery";
import { audit } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { problemResponses } from "../../lib/problem-responses";
import { applyAuthChange, authChangeOf, authKind, refineAuth } from "./credentials";
import { claimServerName } from "./load";
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
    name: serverName,
    description: serverDescription.optional(),
    url: serverUrl,
    transport: serverTransport.default("streamable_http"),
    status: serverStatus.default("active"),
    authSecretName: authSecretName.optional(),
    authToken: authToken.optional(),
    headers: authHeaders.optional(),
  })
  .strict()
  .superRefine(refineAuth)
  .openapi("CreateMcpServerRequest");

const route = createRoute({
  operationId: "createMcpServer",
  tags: ["mcp-servers"],
  method: "post",
  path: "/v1/mcp/servers",
  summary: "Register a remote MCP server",
  description:
    "Checks the URL against the outbound policy (422) but does not call the server: " +
    "`GET /v1/mcp/servers/{id}/discover` and `.../health` do. Owners and admins only (`mcp:write`): " +
    "whoever sets a server's URL and credential decides where that credential is sent.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Registered.", content: { "application/json": { schema: mcpServerSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 500),
  },
});

export function registerCreateMcpServer(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "mcp:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    checkRemoteMcpUrl(input.url, c.get("config"));
    await claimServerName(db, input.name);
    const id = newId();
    const change = authChangeOf(input);
    const secretName =
      change.kind === "keep" ? null : await applyAuthChange(db, c.get("config"), id, null, change);
    invalidateMcpDiscoveryAfterCommit(c);
    const [server] = await db
      .insert(mcpServers)
      .values({
        id,
        tenantId: db.tenantId,
        name: input.name,
        description: input.description ?? null,
        url: input.url,
        transport: input.transport,
        status: input.status,
        authSecretName: secretName,
        createdBy: principalId(caller),
      })
      .returning();
    if (!server) throw new Error("mcp server insert returned no row");
    await audit(c, {
      action: "mcp_server.create",
      resourceType: "mcp_server",
      resourceId: server.id,
      changes: {
        name: server.name,
        transport: server.transport,
        status: server.status,
        auth: authKind(secretName),
      },
    });
    return c.json(toMcpServerResponse(server, null), 201, { location: `/v1/mcp/servers/${server.id}` });
  });
}
