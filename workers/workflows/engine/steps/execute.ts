import type { Step } from "../../definition/schema";
import { runAgentStep } from "./agent";
import type { StepContext } from "./context";
import { type HttpRequest, runHttpStep } from "./http";
import { runMcpToolStep } from "./mcp-tool";

/**
 * Carries out one attempt of a step whose input the interpreter has resolved. Transform and
 * conditional steps are done by then (their input is their output); parallel and approval
 * steps are flow, handled by the interpreter itself.
 */
export async function executeStep(step: Step, input: unknown, ctx: StepContext): Promise<unknown> {
  switch (step.type) {
    case "agent":
      return runAgentStep(step, input as string, ctx);
    case "mcp_tool":
      return runMcpToolStep(step, input, ctx);
    case "http":
      return runHttpStep(step, input as HttpRequest, ctx, (step.timeoutSeconds ?? 30) * 1000);
    case "transform":
    case "conditional":
      return input;
    case "parallel":
    case "wait_for_approval":
      throw new Error(`a ${step.type} step is not executed by executeStep`);
  }
}
