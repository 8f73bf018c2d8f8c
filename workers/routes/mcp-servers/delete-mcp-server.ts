import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { mcpServers } from "../../../db/schema/mcp";
import { isManagedSecretName } from "../../../mcp/client/credentials";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateMcpDiscoveryAfterCommit } from "../../cache/mcp-discovery";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { deleteSecret } from "../../lib/secrets";
import { loadMcpServer } from "./load";

const route = createRoute({
  operationId: "deleteMcpServer",
  tags: ["mcp-servers"],
  method: "delete",
  path: "/v1/mcp/servers/{id}",
  summary: "Remove a remote MCP server",
  description:
    "Soft delete: the server disappears from the API at once, its name is free again, and the row (with " +
    "its execution history) is purged after 30 days. An inline credential (`authToken`/`headers`) is " +
    "deleted now; a named tenant secret is left alone.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "MCP server") }) },
  responses: {
    204: { description: "Removed." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteMcpServer(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:write");
    const db = c.get("db");
    const { server } = await loadMcpServer(db, c.req.valid("param").id, { forUpdate: true });
    invalidateMcpDiscoveryAfterCommit(c);
    await db.update(mcpServers).set({ deletedAt: new Date() }).where(eq(mcpServers.id, server.id));
    if (server.authSecretName && isManagedSecretName(server.authSecretName)) {
      await deleteSecret(db, server.authSecretName);
    }
    await audit(c, {
      action: "mcp_server.delete",
      resourceType: "mcp_server",
      resourceId: server.id,
      changes: { name: server.name },
    });
    return c.body(null, 204);
  });
}
