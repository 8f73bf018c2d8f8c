import { ApiError } from "../../../lib/errors";
import { outboundFetch } from "../../../lib/outbound-fetch";
import { webhookPolicy } from "../../../lib/webhooks/policy";
import type { HttpStep } from "../../definition/schema";
import { type StepContext, StepError } from "./context";

export interface HttpRequest {
  method: HttpStep["method"];
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response says it is JSON, else text. */
  body: unknown;
}

/**
 * Calls a tenant-named URL through the outbound guard (no private or metadata addresses, one
 * deadline over the whole exchange, a capped body). A 2xx answer is the output; 429 and 5xx are
 * retryable failures, other statuses are not.
 */
export async function runHttpStep(
  step: HttpStep,
  request: HttpRequest,
  ctx: StepContext,
  timeoutMs: number,
): Promise<HttpOutput> {
  const headers = new Headers(request.headers);
  headers.set("idempotency-key", ctx.idempotencyKey);
  let body: string | undefined;
  if (request.body !== undefined && request.method !== "GET" && request.method !== "HEAD") {
    body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    if (typeof request.body !== "string" && !headers.has("content-type")) {
      headers.set("content-type", "application/json");
    }
  }
  try {
    const res = await outboundFetch(
      request.url,
      { method: request.method, headers, body, signal: ctx.signal },
      { ...webhookPolicy(ctx.config), timeoutMs, maxResponseBytes: step.maxResponseBytes },
    );
    const text = await res.text();
    const output: HttpOutput = {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: parseBody(text, res.headers.get("content-type")),
    };
    if (res.ok) return output;
    const detail = `${request.method} ${new URL(request.url).host} answered ${res.status}`;
    if (res.status === 429) throw new StepError("rate_limited", detail, true);
    if (res.status >= 500) throw new StepError("http_5xx", detail, true);
    throw new StepError("http_4xx", detail, false);
  } catch (error) {
    if (error instanceof StepError || ctx.signal.aborted) throw error;
    if (error instanceof ApiError) {
      if (error.code === "GATEWAY_TIMEOUT") throw new StepError("timeout", error.message, true);
      if (error.code === "UNPROCESSABLE") throw new StepError("url_refused", error.message, false);
      throw new StepError("network", error.message, true);
    }
    throw new StepError("network", error instanceof Error ? error.message : String(error), true);
  }
}

function parseBody(text: string, contentType: string | null): unknown {
  if (!contentType?.includes("json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
