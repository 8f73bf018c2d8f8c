import { z } from "zod";

/**
 * Messages on the `meridian-jobs` queue. Each carries `tenantId` when it concerns one
 * tenant; platform-wide housekeeping carries none. Validated on consume: a malformed
 * message is acknowledged and logged, never retried forever.
 */
export const jobMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("purge_soft_deleted"),
    /** Rows soft-deleted longer ago than this are removed for good. */
    olderThanDays: z.number().int().min(1).max(3650),
    requestedAt: z.string().datetime(),
  }),
]);

export type JobMessage = z.infer<typeof jobMessage>;
