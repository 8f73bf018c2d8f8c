import type { RunSpec } from "../../agents/run/spec";
import type { RunnableTool } from "../../agents/tools/run-tools";
import { childSpan, isTracingRegistered } from "./spans";

/**
 * Gives each call of a run's tools a span (`tool <name>`) below the active one: the tool's name
 * and kind, the run and tenant, and how it ended; never its input or output. Returns the map
 * untouched in an isolate that does not trace.
 */
export function traceToolCalls(
  tools: Map<string, RunnableTool>,
  spec: Pick<RunSpec, "tenantId" | "runId">,
): Map<string, RunnableTool> {
  if (!isTracingRegistered()) return tools;
  for (const [name, tool] of tools) {
    const call = tool.call;
    tools.set(name, {
      ...tool,
      call: (input, opts) =>
        childSpan(
          `tool ${name}`,
          {
            attributes: {
              "meridian.tool.name": name,
              "meridian.tool.kind": tool.kind,
              "meridian.run_id": spec.runId,
              "meridian.tenant_id": spec.tenantId,
            },
          },
          async (span) => {
            const outcome = await call(input, opts);
            span.setAttributes({
              "meridian.tool.status": outcome.status,
              "meridian.tool.truncated": outcome.truncated,
            });
            return outcome;
          },
        ),
    });
  }
  return tools;
}
