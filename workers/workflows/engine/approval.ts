import { type SchemaIssue, schemaIssues } from "../../lib/json-schema";
import type { ApprovalStep } from "../definition/schema";

/** What an approval accepts when its step names no schema: any JSON object. */
const ANY_OBJECT = { type: "object" };

/** Where a resume payload breaks its approval step's schema or the payload size limit. */
export function checkApproval(step: ApprovalStep, payload: unknown, maxBytes: number): SchemaIssue[] {
  const bytes = new TextEncoder().encode(JSON.stringify(payload ?? null)).byteLength;
  if (bytes > maxBytes)
    return [{ path: "(root)", message: `the payload is ${bytes} bytes; the limit is ${maxBytes}` }];
  return schemaIssues(step.schema ?? ANY_OBJECT, payload);
}
