import type Anthropic from "@anthropic-ai/sdk";
import type { SearchHit } from "../search/search";

/**
 * One cited span of an answer, pointing at the exact characters of a stored document: the client
 * can fetch the document (`GET /v1/rag/documents/{id}?include=content`) and check that
 * `content.slice(startOffset, endOffset) === citedText`.
 */
export interface ChunkCitation {
  /** Where the cited claim sits in the answer text (end exclusive). */
  answerStart: number;
  answerEnd: number;
  citedText: string;
  chunkId: string;
  documentId: string;
  collectionId: string;
  documentTitle: string | null;
  /** Offsets into the document's extracted text (end exclusive). */
  startOffset: number;
  endOffset: number;
  page: number | null;
  /**
   * The chunk holds `citedText` at the stated range. False when the model's citation and the
   * chunk disagree (the offsets are then the chunk's own, and should not be trusted to the character).
   */
  verified: boolean;
}

/**
 * The chunk-level citations of an answer. `blocks` are the answer's text blocks in order; each
 * `char_location` citation's `document_index` names a hit (the prompt's document order) and its
 * character range lies inside that hit's chunk, so the document offsets are the chunk's start
 * plus the range. Citations of other kinds, or of an index with no hit, are dropped.
 *
 * @example
 * const { text, citations } = toChunkCitations(message.content, hits);
 */
export function toChunkCitations(
  blocks: readonly Anthropic.ContentBlock[],
  hits: readonly SearchHit[],
): { text: string; citations: ChunkCitation[] } {
  let text = "";
  const citations: ChunkCitation[] = [];
  for (const block of blocks) {
    if (block.type !== "text") continue;
    const answerStart = text.length;
    text += block.text;
    for (const citation of block.citations ?? []) {
      const mapped = chunkCitation(citation, hits, answerStart, text.length);
      if (mapped) citations.push(mapped);
    }
  }
  return { text, citations };
}

/** Maps one model citation onto its chunk; null when it names no retrieved chunk. */
export function chunkCitation(
  citation: Anthropic.TextCitation,
  hits: readonly SearchHit[],
  answerStart: number,
  answerEnd: number,
): ChunkCitation | null {
  if (citation.type !== "char_location") return null;
  const hit = hits[citation.document_index];
  if (!hit || hit.startOffset === null || hit.endOffset === null) return null;
  const start = Math.max(0, Math.min(citation.start_char_index, hit.content.length));
  const end = Math.max(start, Math.min(citation.end_char_index, hit.content.length));
  const verified = hit.content.slice(start, end) === citation.cited_text && end > start;
  return {
    answerStart,
    answerEnd,
    citedText: citation.cited_text,
    chunkId: hit.chunkId,
    documentId: hit.documentId,
    collectionId: hit.collectionId,
    documentTitle: hit.document.title,
    startOffset: verified ? hit.startOffset + start : hit.startOffset,
    endOffset: verified ? hit.startOffset + end : hit.endOffset,
    page: hit.page,
    verified,
  };
}
