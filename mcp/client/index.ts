/**
 * The client for tenants' remote MCP servers: connect (Streamable HTTP, legacy SSE fallback),
 * discover, check health and call tools, every request through `outboundFetch`.
 */
export {
  CALL_TIMEOUT_MS,
  type ConnectOptions,
  connectRemote,
  MAX_OUTPUT_BYTES,
  type McpTransport,
  type RemoteConnection,
  type RemoteContext,
  type RemotePrompt,
  type RemoteResource,
  type RemoteServerInfo,
  type RemoteTool,
} from "./connect";
export {
  encodeInlineCredential,
  type InlineCredential,
  isManagedSecretName,
  MANAGED_SECRET_PREFIX,
  managedSecretName,
  resolveAuthHeaders,
} from "./credentials";
export {
  cachedDiscovery,
  DISCOVERY_MAX_BYTES,
  DISCOVERY_TTL_MS,
  type Discovery,
  discoverRemote,
  toRegistryColumns,
} from "./discover";
export { REMOTE_FAILURE_REASONS, type RemoteFailureReason, RemoteMcpError } from "./errors";
export {
  executeRemoteTool,
  loadServerByName,
  type RemoteExecuteRequest,
  UnknownRemoteServerError,
} from "./execute";
export {
  checkTenantServers,
  DEGRADED_LATENCY_MS,
  HEALTH_TIMEOUT_MS,
  type HealthResult,
  isHeldUnhealthy,
  probeRemote,
  UNHEALTHY_HOLD_MS,
} from "./health";
export { checkRemoteMcpUrl, remoteMcpPolicy } from "./policy";
export { readRegistry, saveDiscovery, saveHealth } from "./registry";
export type { McpRegistryRow, McpServerRow } from "./types";
