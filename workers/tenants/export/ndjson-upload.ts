/** R2 takes multipart parts of at least 5 MiB (but the last); parts are cut at 8 MiB. */
const PART_BYTES = 8 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * One NDJSON object written to R2 as it is produced: lines are buffered into multipart parts,
 * so an export of any size needs only one part's memory.
 */
export class NdjsonUpload {
  private readonly parts: R2UploadedPart[] = [];
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  /** Bytes written so far, parts and buffer. */
  bytes = 0;
  lines = 0;

  private constructor(private readonly upload: R2MultipartUpload) {}

  static async begin(bucket: R2Bucket, key: string): Promise<NdjsonUpload> {
    return new NdjsonUpload(
      await bucket.createMultipartUpload(key, { httpMetadata: { contentType: "application/x-ndjson" } }),
    );
  }

  async write(value: unknown): Promise<void> {
    const line = encoder.encode(`${JSON.stringify(value)}\n`);
    this.buffered.push(line);
    this.bufferedBytes += line.byteLength;
    this.bytes += line.byteLength;
    this.lines += 1;
    if (this.bufferedBytes >= PART_BYTES) await this.flush();
  }

  async complete(): Promise<void> {
    await this.flush();
    await this.upload.complete(this.parts);
  }

  async abort(): Promise<void> {
    await this.upload.abort();
  }

  private async flush(): Promise<void> {
    if (this.bufferedBytes === 0 && this.parts.length > 0) return;
    const body = new Uint8Array(this.bufferedBytes);
    let offset = 0;
    for (const chunk of this.buffered) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.buffered = [];
    this.bufferedBytes = 0;
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, body));
  }
}
