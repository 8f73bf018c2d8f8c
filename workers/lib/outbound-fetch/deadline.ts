import { ApiError } from "../errors";

export interface Deadline {
  signal: AbortSignal;
  /** Settles like `work()`, or rejects when the deadline passes, the caller aborts, or `work` fails. */
  race<T>(work: () => Promise<T>, failure: () => string): Promise<T>;
  release(): void;
}

export function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Raced against every await as well as passed as the signal, so a fetch (or a fake) that
  // ignores its signal still cannot outlive the deadline.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ApiError("GATEWAY_TIMEOUT", {
        detail: `the upstream did not finish within ${timeoutMs} ms`,
      });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  expired.catch(() => undefined);
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  return {
    signal,
    async race(work, failure) {
      try {
        return await Promise.race([work(), expired]);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (callerSignal?.aborted) throw callerSignal.reason;
        if (controller.signal.aborted) throw controller.signal.reason;
        const why = err instanceof Error ? err.message : String(err);
        throw new ApiError("BAD_GATEWAY", { detail: `${failure()}: ${why}`, cause: err });
      }
    },
    release() {
      clearTimeout(timer);
    },
  };
}
