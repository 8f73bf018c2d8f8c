/**
 * The benchmark's Worker: Meridian's own, plus diagnostic routes that each time one piece of a
 * streamed run's start on its own, so the report can say where the added time goes. None of
 * them leaves a row or a run behind.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { connect } from "../../db/client";
import { withTenant } from "../../db/tenant";
import { providerFor } from "../../workers/agents/provider";
import { runObject } from "../../workers/agents/run/object";
import { prepareRun } from "../../workers/agents/run/prepare";
import { type Env, parseConfig } from "../../workers/env";
import worker from "../../workers/index";

export { AgentRun, WorkflowExecution } from "../../workers/index";

/** Thrown to roll the probe's transaction back once its statements have run. */
class Rollback extends Error {}

const encoder = new TextEncoder();

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);

    // A new connection, the tenant transaction and what prepareRun runs in it (agent, limits,
    // advisory lock and slot count, conversation, run and user message), then a rollback.
    const prepare = url.pathname.match(/^\/__bench\/prepare\/([0-9a-f-]{36})\/([0-9a-f-]{36})$/);
    if (prepare) {
      const config = parseConfig(env);
      const client = await connect(config);
      try {
        await withTenant(client, prepare[1] as string, async (db) => {
          await prepareRun(db, config, {
            agentId: prepare[2] as string,
            message: "bench",
            mode: "stream",
            createdBy: null,
            actor: { kind: "platform_admin", id: "", role: "owner" },
          });
          throw new Rollback();
        });
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
      } finally {
        ctx.waitUntil(client.end());
      }
      return new Response("rolled back");
    }

    // One RPC to a Durable Object that does not exist yet: it is created, builds its event
    // journal table and reads one key (what `start` does before it writes).
    if (url.pathname === "/__bench/object") {
      const run = { tenantId: crypto.randomUUID(), id: crypto.randomUUID() };
      return new Response(await runObject(env, run).cancel());
    }

    // The model call as the run's object makes it (the SDK inside workerd), streamed back as
    // `text_delta` events and a final `done`.
    if (url.pathname === "/__bench/model" && request.method === "POST") {
      const { stream: _streamed, ...params } = (await request.json()) as Record<string, unknown>;
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      const send = (event: string, data: unknown) =>
        void writer.write(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      const stream = providerFor(parseConfig(env)).messages.stream(
        params as unknown as Anthropic.MessageStreamParams,
      );
      stream.on("text", (text) => send("text_delta", { text }));
      ctx.waitUntil(
        stream.finalMessage().then(
          () => {
            send("done", {});
            return writer.close();
          },
          (error: unknown) => {
            send("error", { detail: error instanceof Error ? error.message : String(error) });
            return writer.close();
          },
        ),
      );
      return new Response(readable, { headers: { "content-type": "text/event-stream" } });
    }

    return worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env, unknown>;
