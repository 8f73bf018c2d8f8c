import type { App } from "../../app";
import { registerCreateDocument } from "./create-document";
import { registerCreateDocumentsBatch } from "./create-documents-batch";
import { registerDeleteDocument } from "./delete-document";
import { registerGetDocument } from "./get-document";
import { registerListDocuments } from "./list-documents";
import { registerRetryDocumentRoutes } from "./retry-document";

/** Knowledge-base documents: upload (queued ingestion), status, retry, re-ingest, delete. */
export function registerDocumentRoutes(app: App) {
  registerCreateDocumentsBatch(app);
  registerRetryDocumentRoutes(app);
  registerCreateDocument(app);
  registerListDocuments(app);
  registerGetDocument(app);
  registerDeleteDocument(app);
}
