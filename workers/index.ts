import { handleJobs } from "../queues/jobs/consumer";
import { scheduled } from "../queues/jobs/schedule";
import { app } from "./api";
import type { Env } from "./env";
import { releaseConnection } from "./lib/connection";

export { app };

export default {
  async fetch(request, env, ctx) {
    try {
      return await app.fetch(request, env, ctx);
    } finally {
      ctx.waitUntil(releaseConnection(ctx));
    }
  },
  queue: handleJobs,
  scheduled,
} satisfies ExportedHandler<Env, unknown>;

export { AgentRun } from "../durable-objects/agent-run/agent-run";
export { WorkflowExecution } from "../durable-objects/workflow-execution/workflow-execution";
