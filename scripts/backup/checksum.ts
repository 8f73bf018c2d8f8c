import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * Hex SHA-256 and size of a file, read as a stream (a dump can be gigabytes).
 *
 * @example
 * const { sha256, bytes } = await fileDigest("/tmp/meridian.dump");
 */
export async function fileDigest(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}
