/**
 * The benchmark's Worker: Meridian's own, plus one diagnostic route that runs the calculator's
 * `add` the way `executeBuiltinTool` does at its core (schema parse, then `run()`), with no
 * auth, no database and no MCP protocol: the floor a request through `wrangler dev` costs.
 */
import type { McpToolContext } from "../../mcp/server/types";
import { calculatorServer } from "../../mcp/servers/calculator";
import type { Env } from "../../workers/env";
import worker from "../../workers/index";

export { AgentRun, WorkflowExecution } from "../../workers/index";

const add = calculatorServer.tools.find((t) => t.name === "add");

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/calculator/add" && request.method === "POST" && add) {
      const input = add.input.parse(await request.json());
      // The calculator reads nothing from its context; the other tools would.
      const output = await add.run(input, { signal: request.signal } as McpToolContext);
      return Response.json(output);
    }
    return worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env, unknown>;
