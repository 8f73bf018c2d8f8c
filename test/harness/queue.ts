import { env } from "cloudflare:workers";
import type { JobMessage } from "../../queues/jobs/message";

/**
 * The Worker's bindings with a jobs queue that records what is sent instead of delivering it:
 * for checking what a sweep queues without the consumer running it (and without the test
 * database's other tenants' work reaching the consumer).
 *
 * @example
 * const { bindings, sent } = recordingJobs();
 * await runMcpHealthSweep(bindings, config, requestedAt);
 */
export function recordingJobs(): { bindings: typeof env; sent: JobMessage[] } {
  const sent: JobMessage[] = [];
  const bindings = {
    ...env,
    JOBS: {
      send: async (body: JobMessage) => void sent.push(body),
      sendBatch: async (batch: { body: JobMessage }[]) => void sent.push(...batch.map((m) => m.body)),
    },
  } as unknown as typeof env;
  return { bindings, sent };
}
