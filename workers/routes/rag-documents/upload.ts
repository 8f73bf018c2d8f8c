import { z } from "@hono/zod-openapi";
import { fromBase64 } from "../../lib/bytes";
import { ApiError } from "../../lib/errors";
import { isSupportedMimeType, normaliseMimeType, type SupportedMimeType } from "../../rag/parse/types";
import { documentMetadata, documentSource, documentTitle, type jsonDocument } from "./schemas";

/** One document as received, before it is stored: the original's bytes and what describes it. */
export interface Upload {
  bytes: Uint8Array;
  mimeType: SupportedMimeType;
  title: string | null;
  source: string | null;
  metadata: Record<string, unknown>;
}

/** File extensions that name a type when a multipart part says only `application/octet-stream`. */
const TYPE_BY_EXTENSION: Record<string, SupportedMimeType> = {
  txt: "text/plain",
  text: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  html: "text/html",
  htm: "text/html",
  json: "application/json",
  csv: "text/csv",
  pdf: "application/pdf",
};

/**
 * The supported type a document declares, or 415.
 *
 * @throws ApiError UNSUPPORTED_MEDIA_TYPE
 */
export function supportedType(declared: string, fileName?: string): SupportedMimeType {
  const type = normaliseMimeType(declared);
  if (isSupportedMimeType(type)) return type;
  const extension = fileName?.split(".").pop()?.toLowerCase();
  const guessed =
    extension && (type === "" || type === "application/octet-stream")
      ? TYPE_BY_EXTENSION[extension]
      : undefined;
  if (guessed) return guessed;
  throw new ApiError("UNSUPPORTED_MEDIA_TYPE", {
    detail: `Documents of type "${type || "(none)"}" cannot be ingested; supported: ${Object.values(
      TYPE_BY_EXTENSION,
    )
      .filter((v, i, all) => all.indexOf(v) === i)
      .join(", ")}.`,
  });
}

/**
 * Refuses an empty original, or one over the upload limit (a multipart body can carry several).
 *
 * @throws ApiError PAYLOAD_TOO_LARGE, VALIDATION_FAILED
 */
export function checkSize(bytes: Uint8Array, max: number, what = "The document"): void {
  if (bytes.byteLength === 0) {
    throw new ApiError("VALIDATION_FAILED", {
      detail: `${what} is empty.`,
      errors: [{ path: "content", message: "empty" }],
    });
  }
  if (bytes.byteLength > max) {
    throw new ApiError("PAYLOAD_TOO_LARGE", {
      detail: `${what} is ${bytes.byteLength} bytes; the limit is ${max}.`,
    });
  }
}

/** A document sent as JSON. */
export function jsonUpload(input: z.infer<typeof jsonDocument>, maxBytes: number): Upload {
  const mimeType = supportedType(input.mimeType);
  let bytes: Uint8Array;
  if (input.content !== undefined) {
    bytes = new TextEncoder().encode(input.content);
  } else {
    try {
      bytes = fromBase64(input.contentBase64 ?? "");
    } catch {
      throw new ApiError("VALIDATION_FAILED", {
        detail: "contentBase64 is not valid base64.",
        errors: [{ path: "contentBase64", message: "not base64" }],
      });
    }
  }
  checkSize(bytes, maxBytes);
  return {
    bytes,
    mimeType,
    title: input.title ?? null,
    source: input.source ?? null,
    metadata: input.metadata ?? {},
  };
}

/** The multipart fields besides the file(s), as text. */
export const formFields = z.object({
  collectionId: z.string().uuid(),
  title: documentTitle.optional(),
  source: documentSource.optional(),
  mimeType: z.string().max(200).optional().openapi({ description: "Overrides the file part's own type." }),
  metadata: z
    .string()
    .max(16_384)
    .optional()
    .openapi({ description: "A JSON object, applied to every file of the request." }),
});

/**
 * The `metadata` form field, parsed as a JSON object.
 *
 * @throws ApiError VALIDATION_FAILED
 */
export function formMetadata(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = documentMetadata.safeParse(value);
  if (!parsed.success) {
    throw new ApiError("VALIDATION_FAILED", {
      detail: "The metadata field must be a JSON object (at most 16 KiB).",
      errors: [{ path: "metadata", message: "not a JSON object" }],
    });
  }
  return parsed.data;
}

/** A document sent as one file part of a multipart body. */
export async function fileUpload(
  file: File,
  fields: { title?: string; source?: string; mimeType?: string; metadata: Record<string, unknown> },
  maxBytes: number,
): Promise<Upload> {
  const mimeType = supportedType(fields.mimeType ?? file.type, file.name);
  const bytes = new Uint8Array(await file.arrayBuffer());
  checkSize(bytes, maxBytes, `The file "${file.name}"`);
  return {
    bytes,
    mimeType,
    title: fields.title ?? (file.name || null),
    source: fields.source ?? (file.name || null),
    metadata: fields.metadata,
  };
}
