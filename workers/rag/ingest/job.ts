/** One unit of ingestion work: a document, at the generation the message was sent for. */
export interface IngestJob {
  tenantId: string;
  documentId: string;
  generation: number;
}
