import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../workers/lib/ids";
import type { JournalEntry, WorkflowExecution } from "./workflow-execution";

/** One object per execution, named with the tenant prefix as every key outside PostgreSQL is. */
/** RPC stubs type `unknown` payloads as `never`; the entries are plain JSON. */
async function journalOf(stub: ReturnType<typeof execution>): Promise<JournalEntry[]> {
  return (await stub.journal()) as unknown as JournalEntry[];
}

function execution() {
  const tenantId = newId();
  return env.WORKFLOW_EXECUTION.get(env.WORKFLOW_EXECUTION.idFromName(`${tenantId}:${newId()}`));
}

describe("WorkflowExecution", () => {
  it("journals entries in order and keeps them across eviction", async () => {
    const stub = execution();
    expect(await stub.append("fetch", "succeeded", { rows: 3 })).toBe(1);
    expect(await stub.append("summarise", "running", null)).toBe(2);
    await evictDurableObject(stub);
    const journal = await journalOf(stub);
    expect(journal.map((e) => [e.seq, e.stepId, e.status, e.payload])).toEqual([
      [1, "fetch", "succeeded", { rows: 3 }],
      [2, "summarise", "running", null],
    ]);
  });

  it("wakes on its alarm without the test sleeping", async () => {
    const stub = execution();
    await stub.wakeAt(Date.now() + 60 * 60 * 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await journalOf(stub)).map((e) => [e.stepId, e.status])).toEqual([["$timer", "fired"]]);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("streams the journal as server-sent events, live, and resumes after Last-Event-ID", async () => {
    const stub = execution();
    await stub.append("first", "succeeded", { n: 1 });
    const res = await stub.fetch("https://do/events");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('"stepId":"first"');
    await stub.append("second", "running", null);
    await readUntil('"stepId":"second"');
    expect(text).toMatch(/^id: 1\nevent: journal\ndata: \{/);
    expect(text).toContain("id: 2\n");
    await reader.cancel();

    const resumed = await stub.fetch("https://do/events", { headers: { "last-event-id": "1" } });
    const resumedReader = (resumed.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await resumedReader.read();
    const first = decoder.decode(value);
    expect(first).toContain('"stepId":"second"');
    expect(first).not.toContain('"stepId":"first"');
    await resumedReader.cancel();
  });

  it("keeps each execution's storage to itself", async () => {
    const a = execution();
    const b = execution();
    await a.append("only-a", "succeeded", {});
    expect(await journalOf(b)).toEqual([]);
    const rows = await runInDurableObject(a, (instance: WorkflowExecution, state) => {
      expect(instance).toBeDefined();
      return state.storage.sql.exec("select count(*) as n from journal").one().n;
    });
    expect(rows).toBe(1);
  });
});
