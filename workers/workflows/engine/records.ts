import { and, eq, sql } from "drizzle-orm";
import { connect } from "../../../db/client";
import { workflowExecutions, workflowStepExecutions } from "../../../db/schema";
import { withTenant } from "../../../db/tenant";
import type { RunActor } from "../../agents/run/spec";
import type { Config } from "../../env";
import { recordUsageEvents } from "../../usage/record";
import { workflowStepEvents } from "../../usage/workflow-step";
import type { ExecutionState, StepRecord } from "./store";

/**
 * A step attempt as PostgreSQL records it (the object keeps only each step's latest). `ended`:
 * the step's final outcome (succeeded, or failed with no retry left), the one its usage is billed at.
 */
export type AttemptRecord = Omit<StepRecord, "wakeAt" | "next"> & { ended: boolean };

const EXECUTION_KEY = "execution";
/** How long a note waits for others before its write starts (an explicit flush does not wait). */
const WRITE_DELAY_MS = 10;

/**
 * The queryable copy of an execution in PostgreSQL (`workflow_executions` and one
 * `workflow_step_executions` row per step attempt). The object's own storage is the truth and
 * is written first; this copy is written behind it in batches, one transaction and one
 * connection at a time, so a 20-step transform chain costs a few round trips, not 40, and an
 * execution never holds more than one database connection for its records.
 *
 * What is noted goes to an outbox in the object's storage, in the same synchronous write as
 * the state it describes, and leaves it only once PostgreSQL has it: an object that crashes
 * before a write loses nothing (an attempt that failed and was retried still reaches
 * PostgreSQL as failed); the restarted object sends the outbox first. A step's usage commits
 * with the record of its final outcome, keyed so that sending it again bills nothing more.
 */
export class ExecutionRecords {
  private writing: Promise<void> | undefined;
  private soon: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly config: Config,
    private readonly tenantId: string,
    private readonly executionId: string,
    /** Who started the execution: its steps' usage is theirs. */
    private readonly actor: RunActor,
    private readonly onError: (error: unknown) => void,
  ) {
    sql.exec(
      `create table if not exists record_outbox (
         key text primary key, version integer not null, data text not null
       )`,
    );
  }

  noteAttempt(record: StepRecord): void {
    const { wakeAt: _wakeAt, next: _next, ...rest } = record;
    const attempt = { ...rest, ended: record.status === "succeeded" || record.status === "failed" };
    // A step waiting for its retry shows the attempt that failed; the object keeps the wait.
    const shown =
      record.status === "waiting" && record.error ? { ...attempt, status: "failed" as const } : attempt;
    this.enqueue(record.recordId, shown);
  }

  noteExecution(state: ExecutionState): void {
    this.enqueue(EXECUTION_KEY, state);
  }

  /** Whether something noted has not reached PostgreSQL yet. */
  get behind(): boolean {
    return this.sql.exec<{ n: number }>("select count(*) as n from record_outbox").one().n > 0;
  }

  /** Resolves once everything noted so far is in PostgreSQL. */
  flush(): Promise<void> {
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private enqueue(key: string, data: unknown): void {
    this.sql.exec(
      `insert into record_outbox (key, version, data) values (?, 1, ?)
         on conflict (key) do update set version = version + 1, data = excluded.data`,
      key,
      JSON.stringify(data),
    );
    // A moment's delay lets a burst of notes (a whole run of quick steps) share one write.
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      this.flush().catch(this.onError);
    }, WRITE_DELAY_MS);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<{ key: string; version: number; data: string }>("select key, version, data from record_outbox")
        .toArray();
      if (rows.length === 0) return;
      const execution = rows.find((r) => r.key === EXECUTION_KEY);
      const attempts = rows
        .filter((r) => r.key !== EXECUTION_KEY)
        .map((r) => JSON.parse(r.data) as AttemptRecord);
      await this.write(attempts, execution ? (JSON.parse(execution.data) as ExecutionState) : undefined);
      // Only what was written: a row noted again meanwhile has a newer version and stays.
      for (const row of rows) {
        this.sql.exec("delete from record_outbox where key = ? and version = ?", row.key, row.version);
      }
    }
  }

  private async write(attempts: AttemptRecord[], execution: ExecutionState | undefined): Promise<void> {
    const client = await connect(this.config);
    try {
      await withTenant(client, this.tenantId, async (db) => {
        if (execution) {
          await db
            .update(workflowExecutions)
            .set({
              status: execution.status,
              output: execution.output ?? null,
              error: execution.error,
              startedAt: new Date(execution.startedAt),
              finishedAt: execution.finishedAt === null ? null : new Date(execution.finishedAt),
              updatedAt: new Date(),
            })
            .where(
              and(eq(workflowExecutions.tenantId, db.tenantId), eq(workflowExecutions.id, this.executionId)),
            );
        }
        if (attempts.length === 0) return;
        await db
          .insert(workflowStepExecutions)
          .values(
            attempts.map((a) => ({
              id: a.recordId,
              tenantId: db.tenantId,
              executionId: this.executionId,
              stepId: a.stepId,
              stepType: a.stepType,
              status: a.status,
              attempt: a.attempt,
              sequence: a.sequence,
              input: a.input ?? null,
              output: a.output ?? null,
              error: a.error ? `${a.error.kind}: ${a.error.message}` : null,
              startedAt: a.startedAt === null ? null : new Date(a.startedAt),
              finishedAt: a.finishedAt === null ? null : new Date(a.finishedAt),
            })),
          )
          .onConflictDoUpdate({
            target: [workflowStepExecutions.id],
            set: {
              status: sql`excluded.status`,
              input: sql`excluded.input`,
              output: sql`excluded.output`,
              error: sql`excluded.error`,
              startedAt: sql`excluded.started_at`,
              finishedAt: sql`excluded.finished_at`,
              updatedAt: sql`now()`,
            },
          });
        await recordUsageEvents(
          db,
          workflowStepEvents({ executionId: this.executionId, actor: this.actor }, attempts),
        );
      });
    } finally {
      client.end().catch(() => undefined);
    }
  }
}
