import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { loadCollection } from "../collections/load";
import { acceptUpload } from "./accept";
import { documentSchema, jsonDocument, toDocumentResponse } from "./schemas";
import { fileUpload, formFields, formMetadata, jsonUpload, type Upload } from "./upload";

/** Documents per batch request. */
const MAX_BATCH = 100;

const jsonBody = z
  .object({ collectionId: z.string().uuid(), documents: z.array(jsonDocument).min(1).max(MAX_BATCH) })
  .strict()
  .openapi("CreateDocumentsRequest");
const file = z.instanceof(File).openapi({ type: "string", format: "binary" });
const formBody = formFields
  .omit({ title: true, source: true })
  .extend({ files: z.union([file, z.array(file).min(1).max(MAX_BATCH)]) })
  .openapi("CreateDocumentsUpload");

const itemResult = z
  .object({
    index: z.number().int().openapi({ description: "Position in the request." }),
    result: z.enum(["queued", "duplicate", "rejected"]),
    document: documentSchema.nullable(),
    error: z
      .object({ status: z.number().int(), code: z.string(), detail: z.string() })
      .nullable()
      .openapi({ description: "Why this document was refused (`rejected`); the others were still taken." }),
  })
  .openapi("BatchDocumentResult");
const batchResponse = z.object({ data: z.array(itemResult) }).openapi("CreateDocumentsResponse");
export type CreateDocumentsResponse = z.infer<typeof batchResponse>;

const route = createRoute({
  operationId: "createDocuments",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/documents/batch",
  summary: "Add up to 100 documents to a collection",
  description:
    "Each document is taken or refused on its own (`result` per item, in request order): an " +
    "unsupported or oversize document is `rejected` with its reason and the rest are still queued. " +
    "JSON `documents`, or a multipart upload with one or more `files` parts.",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: false,
      content: { "application/json": { schema: jsonBody }, "multipart/form-data": { schema: formBody } },
    },
  },
  responses: {
    202: { description: "Per-document results.", content: { "application/json": { schema: batchResponse } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429, 500),
  },
});

export function registerCreateDocumentsBatch(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "rag:write");
    const db = c.get("db");
    const max = c.get("config").MAX_UPLOAD_BYTES;
    const json = c.req.valid("json") as Partial<z.infer<typeof jsonBody>>;
    const form = c.req.valid("form") as Partial<z.infer<typeof formBody>>;
    let collectionId: string;
    let uploads: (() => Promise<Upload>)[];
    if (json.collectionId && json.documents) {
      collectionId = json.collectionId;
      uploads = json.documents.map((document) => async () => jsonUpload(document, max));
    } else if (form.collectionId && form.files) {
      collectionId = form.collectionId;
      const metadata = formMetadata(form.metadata);
      const files = Array.isArray(form.files) ? form.files : [form.files];
      uploads = files.map((part) => () => fileUpload(part, { mimeType: form.mimeType, metadata }, max));
    } else {
      throw new ApiError("VALIDATION_FAILED", {
        detail: "Send the documents as JSON or as a multipart upload.",
        errors: [{ path: "(root)", message: "body required" }],
      });
    }
    const collection = await loadCollection(db, collectionId);
    const results: z.infer<typeof itemResult>[] = [];
    for (const [index, read] of uploads.entries()) {
      let upload: Upload;
      try {
        upload = await read();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        results.push({
          index,
          result: "rejected",
          document: null,
          error: { status: error.status, code: error.code, detail: error.message },
        });
        continue;
      }
      const { document, duplicate } = await acceptUpload(c, db, collection.id, upload, principalId(caller));
      results.push({
        index,
        result: duplicate ? "duplicate" : "queued",
        document: toDocumentResponse(document),
        error: null,
      });
    }
    await audit(c, {
      action: "document.create_batch",
      resourceType: "collection",
      resourceId: collection.id,
      changes: { queued: results.filter((r) => r.result === "queued").length, total: results.length },
    });
    return c.json({ data: results }, 202);
  });
}
