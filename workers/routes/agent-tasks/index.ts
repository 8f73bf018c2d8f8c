import type { App } from "../../app";
import { registerCancelAgentTask } from "./cancel-agent-task";
import { registerGetAgentTask } from "./get-agent-task";
import { registerListAgentTasks } from "./list-agent-tasks";

/** Async agent runs as tasks; `POST /v1/agents/{id}/execute` with `async: true` creates them. */
export function registerAgentTasksRoutes(app: App) {
  registerListAgentTasks(app);
  registerGetAgentTask(app);
  registerCancelAgentTask(app);
}
