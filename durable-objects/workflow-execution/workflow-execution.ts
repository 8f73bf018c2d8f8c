import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../workers/env";

export interface JournalEntry {
  seq: number;
  stepId: string;
  status: string;
  payload: unknown;
  at: number;
}

/**
 * One workflow execution. Every state change is appended to a SQLite journal before it is
 * acted on, so an evicted or redeployed object resumes from storage; an alarm wakes it for
 * timers (retries, approval expiry). The workflows issue builds the engine on this journal.
 */
export class WorkflowExecution extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        `create table if not exists journal (
           seq integer primary key autoincrement,
           step_id text not null,
           status text not null,
           payload text not null,
           at integer not null
         )`,
      );
    });
  }

  /** Appends one entry; returns its sequence number. */
  append(stepId: string, status: string, payload: unknown): number {
    const row = this.ctx.storage.sql
      .exec<{ seq: number }>(
        "insert into journal (step_id, status, payload, at) values (?, ?, ?, ?) returning seq",
        stepId,
        status,
        JSON.stringify(payload ?? null),
        Date.now(),
      )
      .one();
    return row.seq;
  }

  /** The journal in order. */
  journal(): JournalEntry[] {
    return this.ctx.storage.sql
      .exec<{ seq: number; step_id: string; status: string; payload: string; at: number }>(
        "select seq, step_id, status, payload, at from journal order by seq",
      )
      .toArray()
      .map((r) => ({
        seq: r.seq,
        stepId: r.step_id,
        status: r.status,
        payload: JSON.parse(r.payload),
        at: r.at,
      }));
  }

  /** Schedules a wake-up; the alarm journals it so the engine can act on it. */
  async wakeAt(epochMs: number): Promise<void> {
    await this.ctx.storage.setAlarm(epochMs);
  }

  override async alarm(): Promise<void> {
    this.append("$timer", "fired", { scheduledFor: Date.now() });
  }
}
