import { except } from "hono/combine";
import { cors } from "hono/cors";
import { newApp } from "./app";
import { authenticate } from "./middleware/auth";
import { bodyLimit } from "./middleware/body-limit";
import { init } from "./middleware/init";
import { requestId } from "./middleware/request-id";
import { securityHeaders } from "./middleware/security-headers";
import { tenantDb } from "./middleware/tenant-db";
import { registerAgentMessagesRoutes } from "./routes/agent-messages";
import { registerAgentRunsRoutes } from "./routes/agent-runs";
import { registerAgentTasksRoutes } from "./routes/agent-tasks";
import { registerCreateAgent } from "./routes/agents/create-agent";
import { registerDeleteAgent } from "./routes/agents/delete-agent";
import { registerExecuteAgent } from "./routes/agents/execute-agent";
import { registerGetAgent } from "./routes/agents/get-agent";
import { registerGetAgentVersion } from "./routes/agents/get-agent-version";
import { registerListAgentVersions } from "./routes/agents/list-agent-versions";
import { registerListAgents } from "./routes/agents/list-agents";
import { registerRestoreAgent } from "./routes/agents/restore-agent";
import { registerUpdateAgent } from "./routes/agents/update-agent";
import { registerCreateApiKey } from "./routes/api-keys/create-api-key";
import { registerListApiKeys } from "./routes/api-keys/list-api-keys";
import { registerRevokeApiKey } from "./routes/api-keys/revoke-api-key";
import { registerRotateApiKey } from "./routes/api-keys/rotate-api-key";
import { registerAuditLogsRoutes } from "./routes/audit-logs";
import { registerLogin } from "./routes/auth/login";
import { registerLogout } from "./routes/auth/logout";
import { registerPasswordRoutes } from "./routes/auth/password-routes";
import { registerRefreshToken } from "./routes/auth/refresh";
import { registerCollectionRoutes } from "./routes/collections";
import { registerConversationsRoutes } from "./routes/conversations";
import { registerDocsPage } from "./routes/docs/docs-page";
import { registerOpenApi } from "./routes/docs/openapi";
import { registerGetHealth } from "./routes/health/get-health";
import { registerGetReadiness } from "./routes/health/get-readiness";
import { registerInvitationRoutes } from "./routes/invitations";
import { registerMcpRoutes } from "./routes/mcp";
import { registerMcpServerRoutes } from "./routes/mcp-servers";
import { registerGetMetrics } from "./routes/metrics/get-metrics";
import { registerQuotasRoutes } from "./routes/quotas";
import { registerDocumentRoutes } from "./routes/rag-documents";
import { registerRagQueryRoutes } from "./routes/rag-query";
import { registerRagSearchRoutes } from "./routes/rag-search";
import { registerSecretsRoutes } from "./routes/secrets";
import { registerTenantRoutes } from "./routes/tenant";
import { registerTenantsRoutes } from "./routes/tenants";
import { registerCreateTenant } from "./routes/tenants/create-tenant";
import { registerSignup } from "./routes/tenants/signup";
import { registerUsageRoutes } from "./routes/usage";
import { registerUserRoutes } from "./routes/users";
import { registerWebhookRoutes } from "./routes/webhooks";
import { registerWorkflowExecutionRoutes } from "./routes/workflow-executions";
import { registerWorkflowTemplateRoutes } from "./routes/workflow-templates";
import { registerWorkflowRoutes } from "./routes/workflows";

/** Routes that run before anyone is authenticated. */
const PUBLIC_PATHS = [
  "/v1/auth/login",
  "/v1/auth/refresh",
  "/v1/auth/password-reset",
  "/v1/auth/password-reset/confirm",
  "/v1/invitations/accept",
  "/v1/signup",
];
/**
 * Routes that open their tenant transaction themselves (`tenantTransaction`), because their
 * work must be committed before the response (an agent run's rows, before its Durable Object
 * writes to them, a workflow execution's row before its object does) or no transaction may stay
 * open through a model call (a RAG answer).
 */
const SELF_TRANSACTING_PATHS = ["/v1/agents/:id/execute", "/v1/rag/query", "/v1/workflows/:id/execute"];
/** Document uploads: files, so a larger body limit than the rest of the API. */
const UPLOAD_PATHS = ["/v1/rag/documents", "/v1/rag/documents/batch"];
/** Platform-admin routes on tenants: no tenant transaction (create) or one for the named tenant. */
const TENANT_ADMIN_PATHS = ["/v1/tenants", "/v1/tenants/*"];

/** The whole HTTP API: middleware in order, then every route. Free of Workers-only imports so
 * `npm run openapi` can build it in Node. */
export const app = newApp();

// Order matters: request id -> config + logger -> headers -> body limit -> auth (rate limit
// inside, before any database work) -> tenant transaction.
app.use(requestId());
app.use(init());
app.use(securityHeaders());
app.use(
  "/v1/*",
  cors({
    origin: (origin, c) => {
      const allowed = (c.get("config").CORS_ORIGINS as string).split(",").map((o) => o.trim());
      return allowed.includes(origin) ? origin : null;
    },
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    exposeHeaders: [
      "X-Request-Id",
      "RateLimit",
      "RateLimit-Policy",
      "Retry-After",
      "Location",
      "Idempotent-Replayed",
    ],
    maxAge: 600,
  }),
);
app.use("/v1/*", except(UPLOAD_PATHS, bodyLimit()));
for (const path of UPLOAD_PATHS)
  app.use(
    path,
    bodyLimit((config) => config.MAX_UPLOAD_BYTES),
  );
app.use("/v1/*", except(PUBLIC_PATHS, authenticate()));
app.use("/v1/tenants/:tenantId", tenantDb());
app.use("/v1/tenants/:tenantId/*", tenantDb());
app.use("/v1/*", except([...PUBLIC_PATHS, ...TENANT_ADMIN_PATHS, ...SELF_TRANSACTING_PATHS], tenantDb()));

registerGetHealth(app);
registerGetReadiness(app);
registerGetMetrics(app);
registerOpenApi(app);
registerDocsPage(app);

registerLogin(app);
registerRefreshToken(app);
registerLogout(app);
registerPasswordRoutes(app);

registerCreateTenant(app);
registerSignup(app);
registerTenantsRoutes(app);
registerTenantRoutes(app);
registerUserRoutes(app);
registerInvitationRoutes(app);
registerSecretsRoutes(app);
registerConversationsRoutes(app);
registerAuditLogsRoutes(app);
registerUsageRoutes(app);
registerQuotasRoutes(app);
registerWebhookRoutes(app);

registerCreateApiKey(app);
registerListApiKeys(app);
registerRevokeApiKey(app);
registerRotateApiKey(app);

registerCreateAgent(app);
registerListAgents(app);
registerGetAgent(app);
registerUpdateAgent(app);
registerDeleteAgent(app);
registerRestoreAgent(app);
registerListAgentVersions(app);
registerGetAgentVersion(app);
registerExecuteAgent(app);
registerAgentRunsRoutes(app);
registerAgentTasksRoutes(app);
registerAgentMessagesRoutes(app);
registerMcpRoutes(app);
registerMcpServerRoutes(app);
registerCollectionRoutes(app);
registerDocumentRoutes(app);
registerRagSearchRoutes(app);
registerRagQueryRoutes(app);
registerWorkflowRoutes(app);
registerWorkflowExecutionRoutes(app);
registerWorkflowTemplateRoutes(app);
