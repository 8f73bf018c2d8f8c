import { jobTraceContext } from "../../../queues/jobs/message";
import type { Env } from "../../env";
import type { TracingSettings } from "./config";
import { childSpan, currentTraceparent, entrySpan, SpanKind } from "./spans";

/** One proxy per env object, so parseConfig's per-env cache keeps working. */
const traced = new WeakMap<Env, Env>();

/**
 * `env` with a `JOBS` binding whose messages carry the sender's trace context: each send gets
 * a PRODUCER span, and every message body (a JobMessage object) gets that span's `traceparent`,
 * which the consumer continues (`traceJob`). Everything else is the env as it is.
 *
 * @example
 * await app.fetch(request, tracedEnv(env), ctx);
 */
export function tracedEnv(env: Env): Env {
  let proxy = traced.get(env);
  if (!proxy) {
    const jobs = tracedQueue(env.JOBS, "JOBS");
    proxy = new Proxy(env, {
      get: (target, prop, receiver) => (prop === "JOBS" ? jobs : Reflect.get(target, prop, receiver)),
    });
    traced.set(env, proxy);
  }
  return proxy;
}

function tracedQueue<Body>(queue: Queue<Body>, binding: string): Queue<Body> {
  const attributes = { "messaging.system": "cloudflare", "messaging.destination.name": binding };
  const send: Queue<Body>["send"] = (body, options) =>
    childSpan(
      `send ${binding}`,
      { kind: SpanKind.PRODUCER, attributes: { ...attributes, "meridian.job.type": jobType(body) } },
      () => queue.send(withTraceparent(body), options),
    );
  const sendBatch: Queue<Body>["sendBatch"] = (messages, options) => {
    const list = [...messages];
    return childSpan(
      `send ${binding}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: { ...attributes, "messaging.batch.message_count": list.length },
      },
      () =>
        queue.sendBatch(
          list.map((message) => ({ ...message, body: withTraceparent(message.body) })),
          options,
        ),
    );
  };
  return new Proxy(queue, {
    get: (target, prop) => {
      if (prop === "send") return send;
      if (prop === "sendBatch") return sendBatch;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function jobType(body: unknown): string | undefined {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type : undefined;
}

/** A job body with the active span's `traceparent` (bodies are JobMessage objects; others pass as they are). */
function withTraceparent<Body>(body: Body): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body) || "traceparent" in body) return body;
  const traceparent = currentTraceparent();
  return traceparent ? { ...body, traceparent } : body;
}

/**
 * Runs one queue message's work in its own span (`process <job type>`, kind CONSUMER): a child
 * of the `traceparent` its sender put in the body, so a request's trace continues into the
 * job; a trace of its own for a message nobody traced (cron jobs, messages from before tracing
 * was turned on). `settings` null (tracing off): `fn` just runs.
 */
export function traceJob<T>(
  settings: TracingSettings | null,
  queue: string,
  message: Message<unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  if (!settings) return fn();
  const body = message.body as { type?: unknown; tenantId?: unknown } | null;
  const type = jobType(body) ?? "job";
  const tenantId = body?.tenantId;
  const context = jobTraceContext.safeParse(body);
  return entrySpan(
    `process ${type}`,
    {
      kind: SpanKind.CONSUMER,
      traceparent: context.success ? context.data.traceparent : undefined,
      attributes: {
        "messaging.system": "cloudflare",
        "messaging.destination.name": queue,
        "messaging.message.id": message.id,
        "messaging.message.delivery_count": message.attempts,
        "meridian.job.type": type,
        "meridian.tenant_id": typeof tenantId === "string" ? tenantId.slice(0, 64) : undefined,
      },
    },
    fn,
  );
}
