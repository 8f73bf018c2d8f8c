import type { App } from "../../app";
import { registerGetAgentMessage } from "./get-agent-message";
import { registerListAgentMessages } from "./list-agent-messages";

/** What agents handed each other; `agent` tools write them (workers/agents/run/delegation.ts). */
export function registerAgentMessagesRoutes(app: App) {
  registerListAgentMessages(app);
  registerGetAgentMessage(app);
}
