import type { App } from "../../app";
import { registerCancelAgentRun } from "./cancel-agent-run";
import { registerDecideApproval } from "./decide-approval";
import { registerGetAgentRun } from "./get-agent-run";
import { registerListAgentRuns } from "./list-agent-runs";
import { registerRunEvents } from "./run-events";

/** Following and steering agent runs; `POST /v1/agents/{id}/execute` creates them. */
export function registerAgentRunsRoutes(app: App) {
  registerListAgentRuns(app);
  registerGetAgentRun(app);
  registerRunEvents(app);
  registerCancelAgentRun(app);
  registerDecideApproval(app);
}
