import type { ExecutionSpec, ExecutionStatus, StepFailure, StepStatus } from "./spec";

/** One step as the execution's object keeps it: its current (latest) attempt. */
export interface StepRecord {
  stepId: string;
  stepType: string;
  status: StepStatus;
  attempt: number;
  /** The `workflow_step_executions` id of this attempt. */
  recordId: string;
  /** The order this attempt started in, within the execution. */
  sequence: number;
  input: unknown;
  output: unknown;
  error: StepFailure | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** A failed attempt's retry, or an approval's expiry. */
  wakeAt: number | null;
  /** A conditional step's choice, kept so a replay takes the same branch. */
  next: string | null;
}

export interface ExecutionState {
  status: ExecutionStatus;
  output: unknown;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
  /** The whole execution fails at this time (its `timeoutSeconds`). */
  deadlineAt: number;
}

interface StepRow extends Record<string, SqlStorageValue> {
  step_id: string;
  step_type: string;
  status: string;
  attempt: number;
  record_id: string;
  sequence: number;
  input: string | null;
  output: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  wake_at: number | null;
  next: string | null;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parsed = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

/**
 * The execution's durable state in its object's SQLite storage. Writes are synchronous and
 * reach disk before the object's next output, so "recorded before the next step starts" holds
 * even if the object is evicted right after.
 */
export class ExecutionStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`create table if not exists meta (key text primary key, value text not null)`);
    sql.exec(
      `create table if not exists steps (
         step_id text primary key, step_type text not null, status text not null,
         attempt integer not null, record_id text not null, sequence integer not null, input text, output text, error text,
         started_at integer, finished_at integer, wake_at integer, next text
       )`,
    );
  }

  spec(): ExecutionSpec | undefined {
    return this.get<ExecutionSpec>("spec");
  }

  state(): ExecutionState | undefined {
    return this.get<ExecutionState>("state");
  }

  begin(spec: ExecutionSpec, state: ExecutionState): void {
    this.put("spec", spec);
    this.put("state", state);
  }

  updateState(change: Partial<ExecutionState>): ExecutionState {
    const current = this.state();
    if (!current) throw new Error("the execution has not started");
    const next = { ...current, ...change };
    this.put("state", next);
    return next;
  }

  step(stepId: string): StepRecord | undefined {
    const row = this.sql.exec<StepRow>("select * from steps where step_id = ?", stepId).toArray()[0];
    return row ? toRecord(row) : undefined;
  }

  steps(): StepRecord[] {
    return this.sql.exec<StepRow>("select * from steps order by sequence").toArray().map(toRecord);
  }

  saveStep(record: StepRecord): void {
    this.sql.exec(
      `insert or replace into steps (step_id, step_type, status, attempt, record_id, sequence, input, output,
         error, started_at, finished_at, wake_at, next) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.stepId,
      record.stepType,
      record.status,
      record.attempt,
      record.recordId,
      record.sequence,
      json(record.input),
      json(record.output),
      json(record.error ?? undefined),
      record.startedAt,
      record.finishedAt,
      record.wakeAt,
      record.next,
    );
  }

  /** The sequence number for the next attempt to start. */
  nextSequence(): number {
    const row = this.sql.exec<{ n: number | null }>("select max(sequence) as n from steps").one();
    return (row.n ?? 0) + 1;
  }

  /** The earliest retry or approval expiry still ahead of a waiting step. */
  nextWake(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>("select min(wake_at) as at from steps where status = 'waiting'")
      .one();
    return row.at ?? null;
  }

  private get<T>(key: string): T | undefined {
    const row = this.sql.exec<{ value: string }>("select value from meta where key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  private put(key: string, value: unknown): void {
    this.sql.exec("insert or replace into meta (key, value) values (?, ?)", key, JSON.stringify(value));
  }
}

function toRecord(row: StepRow): StepRecord {
  return {
    stepId: row.step_id,
    stepType: row.step_type,
    status: row.status as StepStatus,
    attempt: row.attempt,
    recordId: row.record_id,
    sequence: row.sequence,
    input: parsed(row.input),
    output: parsed(row.output),
    error: (parsed(row.error) as StepFailure | undefined) ?? null,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    wakeAt: row.wake_at,
    next: row.next,
  };
}
