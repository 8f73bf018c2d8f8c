import { tenantObjectsPrefix } from "../../tenants/objects";

/**
 * Where a document's original upload lives in the DOCUMENTS bucket. One key per document, so a
 * re-upload of the same document id overwrites rather than piling up, and a tenant's originals
 * share a prefix (export and deletion list them by it).
 *
 * @example
 * await env.DOCUMENTS.put(originalKey(tenantId, documentId), bytes);
 */
export function originalKey(tenantId: string, documentId: string): string {
  return `${tenantPrefix(tenantId)}${documentId}/original`;
}

/** The prefix under which every original of one tenant lies. */
export function tenantPrefix(tenantId: string): string {
  return `${tenantObjectsPrefix(tenantId)}documents/`;
}

/** The original is gone from object storage: nothing to parse, and retrying will not bring it back. */
export class MissingOriginalError extends Error {
  override name = "MissingOriginalError";
}

/**
 * The bytes of a document's original upload.
 *
 * @throws MissingOriginalError when the object does not exist.
 */
export async function readOriginal(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) throw new MissingOriginalError(`the original upload (${key}) is missing from object storage`);
  return new Uint8Array(await object.arrayBuffer());
}
