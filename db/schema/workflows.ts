import { relations, sql } from "drizzle-orm";
import {
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { agents } from "./agents";
import { id, oneOf, softDelete, tenantKey, tenantPolicies, timestamps } from "./columns";
import { tenantId, tenants } from "./tenants";

export const EXECUTION_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
/** An execution or step also waits: for a human's approval, or (a step) for its next attempt. */
export const WORKFLOW_STATUSES = [
  "pending",
  "running",
  "waiting",
  "succeeded",
  "failed",
  "cancelled",
] as const;
export const AGENT_MESSAGE_TYPES = ["request", "response", "event"] as const;

const execution = {
  input: jsonb("input"),
  output: jsonb("output"),
  error: text("error"),
  startedAt: timestamp("started_at", { withTimezone: true }),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
};

export const workflows = pgTable(
  "workflows",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    description: text("description"),
    /** The `workflow_versions.version` that `definition` and `input_schema` mirror. */
    currentVersion: integer("current_version").notNull().default(1),
    /** Steps, edges, conditions and retry policy; validated by the API, interpreted by the engine. */
    definition: jsonb("definition").$type<Record<string, unknown>>().notNull(),
    inputSchema: jsonb("input_schema").$type<Record<string, unknown>>(),
    createdBy: uuid("created_by"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("workflows", t),
    index("workflows_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    ...tenantPolicies(),
  ],
);

/**
 * Immutable definition snapshots. An execution runs for minutes or days; it references the
 * version it started with, so editing the workflow meanwhile cannot change a running execution
 * or rewrite the history of a finished one.
 */
export const workflowVersions = pgTable(
  "workflow_versions",
  {
    ...id,
    ...tenantId,
    workflowId: uuid("workflow_id").notNull(),
    version: integer("version").notNull(),
    definition: jsonb("definition").$type<Record<string, unknown>>().notNull(),
    inputSchema: jsonb("input_schema").$type<Record<string, unknown>>(),
    createdBy: uuid("created_by"),
    ...timestamps,
  },
  (t) => [
    tenantKey("workflow_versions", t),
    unique("workflow_versions_tenant_id_workflow_id_version_key").on(t.tenantId, t.workflowId, t.version),
    foreignKey({
      name: "workflow_versions_workflow_fk",
      columns: [t.tenantId, t.workflowId],
      foreignColumns: [workflows.tenantId, workflows.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const workflowExecutions = pgTable(
  "workflow_executions",
  {
    ...id,
    ...tenantId,
    workflowId: uuid("workflow_id").notNull(),
    version: integer("version").notNull(),
    status: text("status", { enum: WORKFLOW_STATUSES }).notNull().default("pending"),
    ...execution,
    /** The caller's key for "start this execution once"; unique per workflow when present. */
    idempotencyKey: text("idempotency_key"),
    createdBy: uuid("created_by"),
    ...timestamps,
  },
  (t) => [
    tenantKey("workflow_executions", t),
    index("workflow_executions_tenant_id_workflow_id_id_idx").on(t.tenantId, t.workflowId, t.id),
    uniqueIndex("workflow_executions_tenant_id_workflow_id_idempotency_key_key")
      .on(t.tenantId, t.workflowId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("workflow_executions_tenant_id_status_idx").on(t.tenantId, t.status),
    oneOf("workflow_executions_status_check", t.status, WORKFLOW_STATUSES),
    // Through the version row, which itself belongs to the workflow: one key pins both.
    foreignKey({
      name: "workflow_executions_version_fk",
      columns: [t.tenantId, t.workflowId, t.version],
      foreignColumns: [workflowVersions.tenantId, workflowVersions.workflowId, workflowVersions.version],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const workflowStepExecutions = pgTable(
  "workflow_step_executions",
  {
    ...id,
    ...tenantId,
    executionId: uuid("execution_id").notNull(),
    /** The step's id inside the workflow definition. */
    stepId: text("step_id").notNull(),
    stepType: text("step_type").notNull(),
    /** Order in which the execution started its step attempts (timestamps tie within a millisecond). */
    sequence: integer("sequence").notNull().default(0),
    status: text("status", { enum: WORKFLOW_STATUSES }).notNull().default("pending"),
    attempt: smallint("attempt").notNull().default(1),
    ...execution,
    ...timestamps,
  },
  (t) => [
    tenantKey("workflow_step_executions", t),
    // Leads with tenant_id; execution ids are unique, so this is (execution_id, step_id, attempt).
    unique("workflow_step_executions_execution_step_attempt_key").on(
      t.tenantId,
      t.executionId,
      t.stepId,
      t.attempt,
    ),
    oneOf("workflow_step_executions_status_check", t.status, WORKFLOW_STATUSES),
    foreignKey({
      name: "workflow_step_executions_execution_fk",
      columns: [t.tenantId, t.executionId],
      foreignColumns: [workflowExecutions.tenantId, workflowExecutions.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/** Work handed to an agent, by a workflow step or by another agent (supervisor pattern). */
export const agentTasks = pgTable(
  "agent_tasks",
  {
    ...id,
    ...tenantId,
    agentId: uuid("agent_id").notNull(),
    executionId: uuid("execution_id"),
    stepExecutionId: uuid("step_execution_id"),
    parentTaskId: uuid("parent_task_id"),
    /** The `agent_runs` row doing the work, once the task has started. */
    runId: uuid("run_id"),
    conversationId: uuid("conversation_id"),
    /** Receives a signed completion webhook (see workers/lib/webhooks). */
    callbackUrl: text("callback_url"),
    status: text("status", { enum: EXECUTION_STATUSES }).notNull().default("pending"),
    priority: smallint("priority").notNull().default(0),
    attempts: smallint("attempts").notNull().default(0),
    ...execution,
    createdBy: uuid("created_by"),
    ...timestamps,
  },
  (t) => [
    tenantKey("agent_tasks", t),
    index("agent_tasks_tenant_id_agent_id_id_idx").on(t.tenantId, t.agentId, t.id),
    index("agent_tasks_tenant_id_execution_id_id_idx").on(t.tenantId, t.executionId, t.id),
    index("agent_tasks_tenant_id_step_execution_id_idx").on(t.tenantId, t.stepExecutionId),
    index("agent_tasks_tenant_id_parent_task_id_idx").on(t.tenantId, t.parentTaskId),
    oneOf("agent_tasks_status_check", t.status, EXECUTION_STATUSES),
    foreignKey({
      name: "agent_tasks_agent_fk",
      columns: [t.tenantId, t.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_tasks_execution_fk",
      columns: [t.tenantId, t.executionId],
      foreignColumns: [workflowExecutions.tenantId, workflowExecutions.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_tasks_step_execution_fk",
      columns: [t.tenantId, t.stepExecutionId],
      foreignColumns: [workflowStepExecutions.tenantId, workflowStepExecutions.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_tasks_parent_fk",
      columns: [t.tenantId, t.parentTaskId],
      foreignColumns: [t.tenantId, t.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/** Messages between agents while they work on tasks (requests, replies, progress events). */
export const agentMessages = pgTable(
  "agent_messages",
  {
    ...id,
    ...tenantId,
    taskId: uuid("task_id"),
    executionId: uuid("execution_id"),
    senderAgentId: uuid("sender_agent_id"),
    recipientAgentId: uuid("recipient_agent_id"),
    messageType: text("message_type", { enum: AGENT_MESSAGE_TYPES }).notNull(),
    content: jsonb("content").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("agent_messages", t),
    index("agent_messages_tenant_id_task_id_id_idx").on(t.tenantId, t.taskId, t.id),
    index("agent_messages_tenant_id_execution_id_id_idx").on(t.tenantId, t.executionId, t.id),
    index("agent_messages_tenant_id_recipient_agent_id_id_idx").on(t.tenantId, t.recipientAgentId, t.id),
    index("agent_messages_tenant_id_sender_agent_id_idx").on(t.tenantId, t.senderAgentId),
    oneOf("agent_messages_message_type_check", t.messageType, AGENT_MESSAGE_TYPES),
    foreignKey({
      name: "agent_messages_task_fk",
      columns: [t.tenantId, t.taskId],
      foreignColumns: [agentTasks.tenantId, agentTasks.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_messages_execution_fk",
      columns: [t.tenantId, t.executionId],
      foreignColumns: [workflowExecutions.tenantId, workflowExecutions.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_messages_sender_fk",
      columns: [t.tenantId, t.senderAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "agent_messages_recipient_fk",
      columns: [t.tenantId, t.recipientAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const workflowsRelations = relations(workflows, ({ one, many }) => ({
  tenant: one(tenants, { fields: [workflows.tenantId], references: [tenants.id] }),
  versions: many(workflowVersions),
  executions: many(workflowExecutions),
}));

export const workflowVersionsRelations = relations(workflowVersions, ({ one }) => ({
  workflow: one(workflows, { fields: [workflowVersions.workflowId], references: [workflows.id] }),
}));

export const workflowExecutionsRelations = relations(workflowExecutions, ({ one, many }) => ({
  workflow: one(workflows, { fields: [workflowExecutions.workflowId], references: [workflows.id] }),
  steps: many(workflowStepExecutions),
  tasks: many(agentTasks),
}));

export const workflowStepExecutionsRelations = relations(workflowStepExecutions, ({ one }) => ({
  execution: one(workflowExecutions, {
    fields: [workflowStepExecutions.executionId],
    references: [workflowExecutions.id],
  }),
}));

export const agentTasksRelations = relations(agentTasks, ({ one, many }) => ({
  agent: one(agents, { fields: [agentTasks.agentId], references: [agents.id] }),
  execution: one(workflowExecutions, {
    fields: [agentTasks.executionId],
    references: [workflowExecutions.id],
  }),
  messages: many(agentMessages),
}));

export const agentMessagesRelations = relations(agentMessages, ({ one }) => ({
  task: one(agentTasks, { fields: [agentMessages.taskId], references: [agentTasks.id] }),
}));
