import type { App } from "../../app";
import { registerGetAgentRun } from "./get-agent-run";
import { registerListAgentRuns } from "./list-agent-runs";

/** Reading agent runs; `POST /v1/agents/{id}/execute` creates them. */
export function registerAgentRunsRoutes(app: App) {
  registerListAgentRuns(app);
  registerGetAgentRun(app);
}
