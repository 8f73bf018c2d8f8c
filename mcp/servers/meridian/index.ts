import type { BuiltinMcpServer } from "../../server/types";
import { getRun } from "./tools/get-run";
import { listAgents } from "./tools/list-agents";
import { runAgent } from "./tools/run-agent";

/**
 * Meridian itself as an MCP server: the caller's tenant's agents as tools, for MCP clients
 * (Claude Desktop, IDEs) connecting with an API key. Knowledge-base search joins when
 * knowledge bases exist. See docs/mcp-meridian.md.
 */
export const meridianServer: BuiltinMcpServer = {
  name: "meridian",
  title: "Meridian",
  description:
    "This Meridian tenant's agents: list them with list_agents, send one a message with run_agent " +
    "(it waits for the answer), follow a long run with get_run.",
  version: "1.0.0",
  tools: [listAgents, runAgent, getRun],
};
