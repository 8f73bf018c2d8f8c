import type { USAGE_UNITS, UsageMeter } from "../../db/schema/usage";

/**
 * The one unit of each meter, for reports built from the rollups (which keep no unit column).
 * A record over every meter, so a new meter does not compile until it has its unit.
 */
export const METER_UNITS: Readonly<Record<UsageMeter, (typeof USAGE_UNITS)[number]>> = {
  model_input_tokens: "tokens",
  model_output_tokens: "tokens",
  model_cache_write_tokens: "tokens",
  model_cache_read_tokens: "tokens",
  embedding_tokens: "tokens",
  chunks: "chunks",
  tool_calls: "calls",
  workflow_steps: "steps",
  documents: "documents",
  storage_bytes: "bytes",
};
