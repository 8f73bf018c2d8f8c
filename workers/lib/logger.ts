import { activeTraceIds } from "../observability/tracing/spans";

type Level = "debug" | "info" | "warn" | "error";
const rank: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Fields = Record<string, unknown>;

/** A JSON line logger bound to fields every line carries (request id, tenant, ...). */
export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

/**
 * One JSON object per line on the console, which Workers Logs and `wrangler tail` index.
 * Callers pass ids and figures, never message contents or secrets. A line written inside a
 * traced invocation also carries `traceId` and `spanId`, so it joins its trace (and the Sentry
 * event of the same failure, tagged `trace_id`).
 *
 * @example
 * const log = newLogger("info", { requestId });
 * log.info("request", { status: 200, durationMs: 12 });
 */
export function newLogger(level: Level | "silent", base: Fields = {}): Logger {
  const min = rank[level];
  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (rank[lvl] < min) return;
    const line = JSON.stringify({
      level: lvl,
      time: new Date().toISOString(),
      msg,
      ...base,
      ...activeTraceIds(),
      ...fields,
    });
    if (lvl === "error") console.error(line);
    else if (lvl === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => newLogger(level, { ...base, ...fields }),
  };
}
