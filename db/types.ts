/**
 * Row types, one pair per table: `X` is a row as selected, `NewX` what an insert accepts (ids,
 * timestamps and defaults optional). `documents` rows are `RagDocument` so they never shadow a
 * DOM-style `Document` type in code that imports both.
 */
import type * as schema from "./schema";

export type Tenant = typeof schema.tenants.$inferSelect;
export type NewTenant = typeof schema.tenants.$inferInsert;
export type User = typeof schema.users.$inferSelect;
export type NewUser = typeof schema.users.$inferInsert;
export type ApiKey = typeof schema.apiKeys.$inferSelect;
export type NewApiKey = typeof schema.apiKeys.$inferInsert;
export type Session = typeof schema.sessions.$inferSelect;
export type NewSession = typeof schema.sessions.$inferInsert;
export type Invitation = typeof schema.invitations.$inferSelect;
export type NewInvitation = typeof schema.invitations.$inferInsert;
export type PasswordReset = typeof schema.passwordResets.$inferSelect;
export type NewPasswordReset = typeof schema.passwordResets.$inferInsert;
export type TenantSecret = typeof schema.tenantSecrets.$inferSelect;
export type NewTenantSecret = typeof schema.tenantSecrets.$inferInsert;
export type IdempotencyKey = typeof schema.idempotencyKeys.$inferSelect;
export type NewIdempotencyKey = typeof schema.idempotencyKeys.$inferInsert;
export type AuditLog = typeof schema.auditLogs.$inferSelect;
export type NewAuditLog = typeof schema.auditLogs.$inferInsert;
export type Agent = typeof schema.agents.$inferSelect;
export type NewAgent = typeof schema.agents.$inferInsert;
export type AgentVersion = typeof schema.agentVersions.$inferSelect;
export type NewAgentVersion = typeof schema.agentVersions.$inferInsert;
export type Conversation = typeof schema.conversations.$inferSelect;
export type NewConversation = typeof schema.conversations.$inferInsert;
export type Message = typeof schema.messages.$inferSelect;
export type NewMessage = typeof schema.messages.$inferInsert;
export type AgentRun = typeof schema.agentRuns.$inferSelect;
export type NewAgentRun = typeof schema.agentRuns.$inferInsert;
export type ToolExecution = typeof schema.toolExecutions.$inferSelect;
export type NewToolExecution = typeof schema.toolExecutions.$inferInsert;
export type Collection = typeof schema.collections.$inferSelect;
export type NewCollection = typeof schema.collections.$inferInsert;
export type RagDocument = typeof schema.documents.$inferSelect;
export type NewRagDocument = typeof schema.documents.$inferInsert;
export type Chunk = typeof schema.chunks.$inferSelect;
export type NewChunk = typeof schema.chunks.$inferInsert;
export type RagQuery = typeof schema.ragQueries.$inferSelect;
export type NewRagQuery = typeof schema.ragQueries.$inferInsert;
export type RagSource = typeof schema.ragSources.$inferSelect;
export type NewRagSource = typeof schema.ragSources.$inferInsert;
export type McpServer = typeof schema.mcpServers.$inferSelect;
export type NewMcpServer = typeof schema.mcpServers.$inferInsert;
export type McpServerConfig = typeof schema.mcpServerConfigs.$inferSelect;
export type NewMcpServerConfig = typeof schema.mcpServerConfigs.$inferInsert;
export type McpServerRegistryEntry = typeof schema.mcpServerRegistry.$inferSelect;
export type NewMcpServerRegistryEntry = typeof schema.mcpServerRegistry.$inferInsert;
export type McpToolExecution = typeof schema.mcpToolExecutions.$inferSelect;
export type NewMcpToolExecution = typeof schema.mcpToolExecutions.$inferInsert;
export type Workflow = typeof schema.workflows.$inferSelect;
export type NewWorkflow = typeof schema.workflows.$inferInsert;
export type WorkflowVersion = typeof schema.workflowVersions.$inferSelect;
export type NewWorkflowVersion = typeof schema.workflowVersions.$inferInsert;
export type WorkflowExecution = typeof schema.workflowExecutions.$inferSelect;
export type NewWorkflowExecution = typeof schema.workflowExecutions.$inferInsert;
export type WorkflowStepExecution = typeof schema.workflowStepExecutions.$inferSelect;
export type NewWorkflowStepExecution = typeof schema.workflowStepExecutions.$inferInsert;
export type AgentTask = typeof schema.agentTasks.$inferSelect;
export type NewAgentTask = typeof schema.agentTasks.$inferInsert;
export type AgentMessage = typeof schema.agentMessages.$inferSelect;
export type NewAgentMessage = typeof schema.agentMessages.$inferInsert;
export type McpFile = typeof schema.mcpFiles.$inferSelect;
