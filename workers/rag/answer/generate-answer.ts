import type Anthropic from "@anthropic-ai/sdk";
import { withProviderRetries } from "../../agents/run/retry";
import type { SearchHit } from "../search/search";
import { type ChunkCitation, chunkCitation, toChunkCitations } from "./citations";
import { ANSWER_SYSTEM_PROMPT, answerPrompt } from "./prompt";

export interface AnswerRequest {
  model: string;
  maxTokens: number;
  question: string;
  /** The retrieved chunks, in rank order: the prompt's documents. */
  hits: readonly SearchHit[];
  /** Epoch ms by which the answer must be done, retries included. */
  deadline: number;
  signal?: AbortSignal;
  /** Extra headers for the model call (a test deployment's scenario header). */
  headers?: Record<string, string>;
}

/** What a streamed answer reports as it goes. */
export type AnswerEvent =
  | { type: "text_delta"; text: string }
  /** A citation, once the text block it supports is complete (its answer span is then known). */
  | { type: "citation"; citation: ChunkCitation };

export interface AnswerResult {
  text: string;
  citations: ChunkCitation[];
  inputTokens: number;
  outputTokens: number;
  stopReason: string | null;
}

/** Thrown instead of a provider error once part of the answer went out: a retry would repeat it. */
class PartlyStreamed extends Error {
  override name = "PartlyStreamed";
}

/**
 * Asks the model for a cited answer over `hits` (see `answerPrompt`) and maps its citations onto
 * chunks and document offsets. The call is streamed; `onEvent` hears each text delta and each
 * citation as it completes. A failed call is retried (the agents' provider policy) only while
 * nothing has been streamed to the caller yet.
 *
 * @throws the provider's error once retries or the deadline are spent.
 * @example
 * const answer = await generateAnswer(providerFor(config), { model, maxTokens: 1024, question, hits, deadline });
 */
export async function generateAnswer(
  client: Anthropic,
  request: AnswerRequest,
  onEvent?: (event: AnswerEvent) => void,
): Promise<AnswerResult> {
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model: request.model,
    max_tokens: request.maxTokens,
    system: ANSWER_SYSTEM_PROMPT,
    messages: [{ role: "user", content: answerPrompt(request.hits, request.question) }],
  };
  const message = await withProviderRetries(
    async () => {
      let emitted = false;
      let text = "";
      let blockStart = 0;
      let pending: Anthropic.TextCitation[] = [];
      const stream = client.messages.stream(params, { signal: request.signal, headers: request.headers });
      try {
        for await (const event of stream) {
          if (event.type === "content_block_start") {
            blockStart = text.length;
            pending = [];
          } else if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
            text += event.delta.text;
            emitted = true;
            onEvent?.({ type: "text_delta", text: event.delta.text });
          } else if (event.type === "content_block_delta" && event.delta.type === "citations_delta") {
            pending.push(event.delta.citation);
          } else if (event.type === "content_block_stop") {
            for (const raw of pending) {
              const citation = chunkCitation(raw, request.hits, blockStart, text.length);
              if (citation) {
                emitted = true;
                onEvent?.({ type: "citation", citation });
              }
            }
            pending = [];
          }
        }
        return await stream.finalMessage();
      } catch (error) {
        if (emitted)
          throw new PartlyStreamed(error instanceof Error ? error.message : String(error), { cause: error });
        throw error;
      }
    },
    { deadline: request.deadline, signal: request.signal },
  );
  const { text, citations } = toChunkCitations(message.content, request.hits);
  return {
    text,
    citations,
    inputTokens: message.usage.input_tokens,
    outputTokens: message.usage.output_tokens,
    stopReason: message.stop_reason,
  };
}
