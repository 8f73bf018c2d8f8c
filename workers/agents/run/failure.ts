import Anthropic from "@anthropic-ai/sdk";
import type { ErrorCode } from "../../lib/errors";
import type { RunFailure } from "./spec";

/**
 * How a provider error is reported once retries are spent: overload (529) is UNAVAILABLE, a
 * 400 (the request the agent's definition produced was rejected) UNPROCESSABLE, and other
 * throttling, server and network errors BAD_GATEWAY. (A timeout is not a failure: the run's
 * time ran out, and the engine ends it with `max_execution_time`.)
 */
export function providerFailure(error: unknown): RunFailure {
  if (!(error instanceof Anthropic.APIError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { code: "BAD_GATEWAY", detail: `The model provider failed: ${message}`.slice(0, 1000) };
  }
  const status = error.status;
  // The SDK's message repeats the status and the raw body; the API's own message reads better.
  const body = error.error as { error?: { message?: unknown } } | undefined;
  const message = typeof body?.error?.message === "string" ? body.error.message : error.message;
  const code: ErrorCode = status === 529 ? "UNAVAILABLE" : status === 400 ? "UNPROCESSABLE" : "BAD_GATEWAY";
  const detail =
    status === undefined
      ? `The model provider failed: ${message}`
      : `The model provider answered ${status}: ${message}`;
  return { code, detail: detail.slice(0, 1000) };
}
