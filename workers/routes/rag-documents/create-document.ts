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

const jsonBody = jsonDocument
  .and(z.object({ collectionId: z.string().uuid() }))
  .openapi("CreateDocumentRequest");
const formBody = formFields
  .extend({ file: z.instanceof(File).openapi({ type: "string", format: "binary" }) })
  .openapi("CreateDocumentUpload");

const acceptedDocument = documentSchema
  .extend({
    duplicate: z.boolean().openapi({
      description:
        "True when the collection already held these exact bytes: that document is returned, nothing new is queued.",
    }),
  })
  .openapi("AcceptedDocument");
export type AcceptedDocumentResponse = z.infer<typeof acceptedDocument>;

const route = createRoute({
  operationId: "createDocument",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/documents",
  summary: "Add a document to a collection",
  description:
    "Stores the original and queues its ingestion (202); follow `status` at the Location. JSON with " +
    "`content` (text) or `contentBase64` (any supported format), or a multipart upload with a `file` part. " +
    "An unsupported type is 415, a file over the upload limit 413. Uploading the same bytes to the " +
    "same collection again answers 200 with the existing document.",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: false,
      content: { "application/json": { schema: jsonBody }, "multipart/form-data": { schema: formBody } },
    },
  },
  responses: {
    200: {
      description: "Already in the collection.",
      content: { "application/json": { schema: acceptedDocument } },
    },
    202: {
      description: "Queued for ingestion.",
      content: { "application/json": { schema: acceptedDocument } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429, 500),
  },
});

export function registerCreateDocument(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "rag:write");
    const db = c.get("db");
    const max = c.get("config").MAX_UPLOAD_BYTES;
    const json = c.req.valid("json") as Partial<z.infer<typeof jsonBody>>;
    const form = c.req.valid("form") as Partial<z.infer<typeof formBody>>;
    let collectionId: string;
    let upload: Upload;
    if (json.collectionId) {
      collectionId = json.collectionId;
      upload = jsonUpload(json as z.infer<typeof jsonBody>, max);
    } else if (form.collectionId && form.file) {
      collectionId = form.collectionId;
      upload = await fileUpload(form.file, { ...form, metadata: formMetadata(form.metadata) }, max);
    } else {
      throw new ApiError("VALIDATION_FAILED", {
        detail: "Send the document as JSON or as a multipart upload.",
        errors: [{ path: "(root)", message: "body required" }],
      });
    }
    const collection = await loadCollection(db, collectionId);
    const { document, duplicate } = await acceptUpload(c, db, collection.id, upload, principalId(caller));
    if (!duplicate) {
      await audit(c, {
        action: "document.create",
        resourceType: "document",
        resourceId: document.id,
        changes: {
          collectionId: collection.id,
          mimeType: upload.mimeType,
          sizeBytes: upload.bytes.byteLength,
        },
      });
    }
    return c.json({ ...toDocumentResponse(document), duplicate }, duplicate ? 200 : 202, {
      location: `/v1/rag/documents/${document.id}`,
    });
  });
}
