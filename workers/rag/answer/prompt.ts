import type Anthropic from "@anthropic-ai/sdk";
import type { SearchHit } from "../search/search";

/** What the model is told about its job; the documents and question follow in the user turn. */
export const ANSWER_SYSTEM_PROMPT =
  "Answer the user's question from the documents provided, citing them. Use only what the documents " +
  "say; if they do not contain the answer, say so plainly instead of guessing.";

/**
 * The user turn of a cited answer: one `document` block per retrieved chunk (plain text, citations
 * enabled), in rank order, then the question. The Messages API then answers with `char_location`
 * citations whose `document_index` is the hit's position here and whose character range lies
 * inside the chunk's text, which `toChunkCitations` maps back onto the stored document.
 *
 * @example
 * const content = answerPrompt(hits, "How long do refunds take?");
 * await client.messages.create({ model, max_tokens: 1024, system: ANSWER_SYSTEM_PROMPT, messages: [{ role: "user", content }] });
 */
export function answerPrompt(hits: readonly SearchHit[], question: string): Anthropic.ContentBlockParam[] {
  const documents = hits.map(
    (hit): Anthropic.DocumentBlockParam => ({
      type: "document",
      source: { type: "text", media_type: "text/plain", data: hit.content },
      title: hit.document.title ?? hit.document.source ?? `Document ${hit.documentId}`,
      // The parent passage gives the model the surrounding section without making it citable:
      // citations must land inside the chunk so their offsets map onto the document.
      ...(hit.parent ? { context: hit.parent.content } : {}),
      citations: { enabled: true },
    }),
  );
  return [...documents, { type: "text", text: question }];
}
