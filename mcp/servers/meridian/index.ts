import type { BuiltinMcpServer } from "../../server/types";
import { getRun } from "./tools/get-run";
import { listAgents } from "./tools/list-agents";
import { listCollections } from "./tools/list-collections";
import { runAgent } from "./tools/run-agent";
import { searchKnowledgeBase } from "./tools/search-knowledge-base";

/**
 * Meridian itself as an MCP server: the caller's tenant's agents and knowledge bases as tools,
 * for MCP clients (Claude Desktop, IDEs) connecting with an API key. See docs/mcp-meridian.md.
 */
export const meridianServer: BuiltinMcpServer = {
  name: "meridian",
  title: "Meridian",
  description:
    "This Meridian tenant's agents and knowledge bases: list agents with list_agents, send one a message " +
    "with run_agent (it waits for the answer), follow a long run with get_run; list knowledge bases with " +
    "list_collections and search them with search_knowledge_base.",
  version: "1.0.0",
  tools: [listAgents, runAgent, getRun, listCollections, searchKnowledgeBase],
};
