import type { RunActor } from "../agents/run/spec";
import { principalColumns } from "./model-call";
import type { UsageEvent } from "./record";

/**
 * The events of a document accepted for storage: one document and its original's bytes. Keyed
 * by the document alone: its original never changes (the same bytes again return the existing
 * document, other bytes make a new one, a retry or re-ingest reads the stored original), so
 * only a new document is newly stored. What a tenant holds now is the quota report's
 * (`resourceCounts`); these count what was stored.
 */
export function storedDocumentEvents(document: {
  documentId: string;
  sizeBytes: number;
  actor: RunActor;
}): UsageEvent[] {
  const columns = {
    resourceType: "document",
    resourceId: document.documentId,
    ...principalColumns(document.actor),
  };
  const work = `stored_document:${document.documentId}`;
  return [
    { ...columns, eventKey: `${work}:documents`, meter: "documents", quantity: 1, unit: "documents" },
    {
      ...columns,
      eventKey: `${work}:storage_bytes`,
      meter: "storage_bytes",
      quantity: document.sizeBytes,
      unit: "bytes",
    },
  ];
}
