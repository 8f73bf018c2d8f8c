import { relations, sql } from "drizzle-orm";
import {
  bigint,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { id, oneOf, softDelete, tenantKey, tenantPolicies, timestamps } from "./columns";
import { tenantId, tenants } from "./tenants";

export const MESSAGE_ROLES = ["user", "assistant", "tool"] as const;
export const TOOL_EXECUTION_STATUSES = [
  "pending",
  "awaiting_approval",
  "running",
  "succeeded",
  "failed",
  "denied",
  "cancelled",
] as const;
export const AGENT_RUN_STATUSES = [
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "failed",
  "cancelled",
] as const;
/** How the caller follows a run: waits for the answer, streams its events, or polls a task. */
export const AGENT_RUN_MODES = ["sync", "stream", "async"] as const;

/** The agent definition fields, shared by `agents` (current) and `agent_versions` (snapshots). */
const definition = {
  model: text("model").notNull(),
  systemPrompt: text("system_prompt"),
  tools: jsonb("tools").$type<unknown[]>().notNull().default([]),
  capabilities: jsonb("capabilities").$type<string[]>().notNull().default([]),
  resourceLimits: jsonb("resource_limits").$type<Record<string, number>>().notNull().default({}),
  metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
};

/** The principal that made the row: a user id or an API key id (no foreign key, it may be either). */
const createdBy = { createdBy: uuid("created_by") };

export const agents = pgTable(
  "agents",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    description: text("description"),
    /** The `agent_versions.version` these columns mirror; bumped with every definition change. */
    currentVersion: integer("current_version").notNull().default(1),
    ...definition,
    ...createdBy,
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("agents", t),
    index("agents_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    ...tenantPolicies(),
  ],
);

/** Immutable snapshots of an agent's definition, so a conversation or task can name what it ran. */
export const agentVersions = pgTable(
  "agent_versions",
  {
    ...id,
    ...tenantId,
    agentId: uuid("agent_id").notNull(),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    ...definition,
    ...createdBy,
    ...timestamps,
  },
  (t) => [
    tenantKey("agent_versions", t),
    unique("agent_versions_tenant_id_agent_id_version_key").on(t.tenantId, t.agentId, t.version),
    foreignKey({
      name: "agent_versions_agent_fk",
      columns: [t.tenantId, t.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const conversations = pgTable(
  "conversations",
  {
    ...id,
    ...tenantId,
    agentId: uuid("agent_id").notNull(),
    title: text("title"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    ...createdBy,
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("conversations", t),
    // Not partial: the same index serves the agent foreign key's cascade, which must also find
    // soft-deleted rows; lists skip the few deleted rows left before the purge.
    index("conversations_tenant_id_agent_id_id_idx").on(t.tenantId, t.agentId, t.id),
    index("conversations_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    foreignKey({
      name: "conversations_agent_fk",
      columns: [t.tenantId, t.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const messages = pgTable(
  "messages",
  {
    ...id,
    ...tenantId,
    conversationId: uuid("conversation_id").notNull(),
    /** Position in the conversation, assigned by the writer; the unique key makes a lost race fail loudly. */
    sequence: integer("sequence").notNull(),
    role: text("role", { enum: MESSAGE_ROLES }).notNull(),
    /** Content blocks as the model API takes them (text, tool_use, tool_result). */
    content: jsonb("content").$type<unknown[]>().notNull(),
    model: text("model"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    /** An assistant message's model call: prompt-cache writes and reads, and what the call cost. */
    cacheCreationInputTokens: integer("cache_creation_input_tokens"),
    cacheReadInputTokens: integer("cache_read_input_tokens"),
    costMicroUsd: bigint("cost_micro_usd", { mode: "number" }),
    /**
     * The `agent_runs` row that wrote the message (null for messages from elsewhere). No foreign
     * key: both rows hang off the conversation and go with it.
     */
    runId: uuid("run_id"),
    ...timestamps,
  },
  (t) => [
    tenantKey("messages", t),
    // Leads with tenant_id like every composite index; conversation ids are unique anyway, so
    // this is the same constraint as (conversation_id, sequence).
    unique("messages_tenant_id_conversation_id_sequence_key").on(t.tenantId, t.conversationId, t.sequence),
    oneOf("messages_role_check", t.role, MESSAGE_ROLES),
    foreignKey({
      name: "messages_conversation_fk",
      columns: [t.tenantId, t.conversationId],
      foreignColumns: [conversations.tenantId, conversations.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const toolExecutions = pgTable(
  "tool_executions",
  {
    ...id,
    ...tenantId,
    conversationId: uuid("conversation_id"),
    messageId: uuid("message_id"),
    /** The model's `tool_use` block id, which the `tool_result` must echo. */
    toolUseId: text("tool_use_id"),
    toolName: text("tool_name").notNull(),
    input: jsonb("input"),
    output: jsonb("output"),
    error: text("error"),
    status: text("status", { enum: TOOL_EXECUTION_STATUSES }).notNull().default("pending"),
    durationMs: integer("duration_ms"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("tool_executions", t),
    index("tool_executions_tenant_id_conversation_id_id_idx").on(t.tenantId, t.conversationId, t.id),
    index("tool_executions_tenant_id_message_id_idx").on(t.tenantId, t.messageId),
    oneOf("tool_executions_status_check", t.status, TOOL_EXECUTION_STATUSES),
    foreignKey({
      name: "tool_executions_conversation_fk",
      columns: [t.tenantId, t.conversationId],
      foreignColumns: [conversations.tenantId, conversations.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "tool_executions_message_fk",
      columns: [t.tenantId, t.messageId],
      foreignColumns: [messages.tenantId, messages.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/**
 * One execution of an agent on a conversation: the model/tool loop from a user message to the
 * final answer, with its totals for billing. `stop_reason` is the model's last stop reason or a
 * platform one (`max_tool_iterations`, `max_execution_time`, `error`).
 */
export const agentRuns = pgTable(
  "agent_runs",
  {
    ...id,
    ...tenantId,
    agentId: uuid("agent_id").notNull(),
    /** The agent's `current_version` when the run started. */
    agentVersion: integer("agent_version").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    status: text("status", { enum: AGENT_RUN_STATUSES }).notNull().default("running"),
    mode: text("mode", { enum: AGENT_RUN_MODES }).notNull().default("sync"),
    /** Tool calls waiting for a human while `status` is `awaiting_approval`, with their expiry. */
    pendingApproval: jsonb("pending_approval"),
    /** The `agent_tasks` row of an async run. */
    taskId: uuid("task_id"),
    /** The user or API key that started the run. */
    createdBy: uuid("created_by"),
    /** The caller's `Idempotency-Key`: a retried request attaches to this run instead of starting another. */
    idempotencyKey: text("idempotency_key"),
    stopReason: text("stop_reason"),
    error: text("error"),
    model: text("model").notNull(),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheCreationInputTokens: integer("cache_creation_input_tokens").notNull().default(0),
    cacheReadInputTokens: integer("cache_read_input_tokens").notNull().default(0),
    costMicroUsd: bigint("cost_micro_usd", { mode: "number" }).notNull().default(0),
    modelCalls: integer("model_calls").notNull().default(0),
    toolCalls: integer("tool_calls").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("agent_runs", t),
    index("agent_runs_tenant_id_agent_id_id_idx").on(t.tenantId, t.agentId, t.id),
    index("agent_runs_tenant_id_conversation_id_idx").on(t.tenantId, t.conversationId),
    oneOf("agent_runs_status_check", t.status, AGENT_RUN_STATUSES),
    oneOf("agent_runs_mode_check", t.mode, AGENT_RUN_MODES),
    uniqueIndex("agent_runs_tenant_id_idempotency_key_key")
      .on(t.tenantId, t.createdBy, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    foreignKey({
      name: "agent_runs_agent_version_fk",
      columns: [t.tenantId, t.agentId, t.agentVersion],
      foreignColumns: [agentVersions.tenantId, agentVersions.agentId, agentVersions.version],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_runs_conversation_fk",
      columns: [t.tenantId, t.conversationId],
      foreignColumns: [conversations.tenantId, conversations.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const agentsRelations = relations(agents, ({ one, many }) => ({
  tenant: one(tenants, { fields: [agents.tenantId], references: [tenants.id] }),
  versions: many(agentVersions),
  conversations: many(conversations),
  runs: many(agentRuns),
}));

export const agentRunsRelations = relations(agentRuns, ({ one }) => ({
  agent: one(agents, { fields: [agentRuns.agentId], references: [agents.id] }),
  conversation: one(conversations, { fields: [agentRuns.conversationId], references: [conversations.id] }),
}));

export const agentVersionsRelations = relations(agentVersions, ({ one }) => ({
  agent: one(agents, { fields: [agentVersions.agentId], references: [agents.id] }),
}));

export const conversationsRelations = relations(conversations, ({ one, many }) => ({
  agent: one(agents, { fields: [conversations.agentId], references: [agents.id] }),
  messages: many(messages),
  toolExecutions: many(toolExecutions),
}));

export const messagesRelations = relations(messages, ({ one, many }) => ({
  conversation: one(conversations, { fields: [messages.conversationId], references: [conversations.id] }),
  toolExecutions: many(toolExecutions),
}));

export const toolExecutionsRelations = relations(toolExecutions, ({ one }) => ({
  conversation: one(conversations, {
    fields: [toolExecutions.conversationId],
    references: [conversations.id],
  }),
  message: one(messages, { fields: [toolExecutions.messageId], references: [messages.id] }),
}));
