import { z } from "zod";
import { defineTemplate, modelParameter } from "./types";

/** Three days, so a question asked on a Friday can be approved on Monday; then the step fails. */
const APPROVAL_SECONDS = 3 * 86_400;

/**
 * Retrieval, an answer grounded in it, a second agent's review, then a human decides. The
 * passages are fetched by a step (so every execution records what the answer rests on) and the
 * answering agent can search the same collection again through its knowledge-base tool.
 */
export const ragAnswerWithReview = defineTemplate({
  id: "rag-answer-with-review",
  name: "RAG-enhanced answer with review",
  description:
    "Searches a knowledge-base collection for the question (the built-in meridian MCP server's " +
    "search_knowledge_base), has an answering agent (which can search the collection again) answer " +
    "from the passages, has a reviewer agent check the answer against them, then waits for a human " +
    "to approve or reject it. The output says which, with the answer, the review and the sources.",
  parameters: z.strictObject({
    model: modelParameter,
    collectionId: z
      .string()
      .uuid()
      .describe("The knowledge-base collection to answer from; it must be one of the tenant's."),
    topK: z.number().int().min(1).max(20).default(5).describe("How many passages each search returns."),
  }),
  collectionParameters: ["collectionId"],
  agents: [
    {
      key: "answerer",
      name: "answerer",
      description: "Answers questions from a knowledge-base collection, citing it.",
      systemPrompt:
        "You answer questions from a knowledge base. Use only the passages you are given and what " +
        "search_knowledge_base finds; cite the documents you rely on by title. If the knowledge base " +
        "does not answer the question, say so instead of guessing.",
      tools: [
        {
          name: "search_knowledge_base",
          type: "knowledge_base",
          description: "Search the knowledge base again, with your own query.",
          config: { collectionIds: ["@param:collectionId"], topK: "@param:topK" },
        },
      ],
    },
    {
      key: "reviewer",
      name: "reviewer",
      description: "Checks an answer against the passages it should rest on.",
      systemPrompt:
        "You review answers written from a knowledge base. Check every claim against the passages. " +
        "Start your reply with APPROVE or REVISE on a line of its own, then list unsupported or wrong " +
        "claims and anything important the answer missed.",
    },
  ],
  inputSchema: {
    type: "object",
    properties: {
      question: { type: "string", minLength: 1, maxLength: 2000, description: "The question to answer." },
    },
    required: ["question"],
    additionalProperties: false,
  },
  exampleInput: { question: "How long do refunds take?" },
  definition: {
    steps: [
      {
        id: "retrieve",
        name: "Search the knowledge base",
        type: "mcp_tool",
        server: "meridian",
        tool: "search_knowledge_base",
        arguments: {
          query: "{{input.question}}",
          collectionIds: ["@param:collectionId"],
          topK: "@param:topK",
        },
      },
      {
        id: "answer",
        name: "Answer from the passages",
        type: "agent",
        agentId: "@agent:answerer",
        message:
          "Question: {{input.question}}\n\n" +
          "Passages found in the knowledge base (JSON):\n{{steps.retrieve.output.results}}",
      },
      {
        id: "review",
        name: "Review the answer",
        type: "agent",
        agentId: "@agent:reviewer",
        message:
          "Question: {{input.question}}\n\n" +
          "Answer to review:\n{{steps.answer.output.text}}\n\n" +
          "Passages it should rest on (JSON):\n{{steps.retrieve.output.results}}",
      },
      {
        id: "approval",
        name: "A human approves or rejects the answer",
        type: "wait_for_approval",
        message:
          'Publish this answer to "{{input.question}}"?\n\n' +
          "Answer:\n{{steps.answer.output.text}}\n\nReviewer:\n{{steps.review.output.text}}",
        schema: {
          type: "object",
          properties: {
            approved: { type: "boolean" },
            comment: { type: "string", maxLength: 2000 },
          },
          required: ["approved"],
          additionalProperties: false,
        },
        expiresInSeconds: APPROVAL_SECONDS,
        onExpiry: "fail",
      },
      {
        id: "decide",
        type: "conditional",
        branches: [
          { when: { path: "$.steps.approval.output.approved", op: "eq", value: true }, next: "approved" },
        ],
        default: "rejected",
      },
      {
        id: "approved",
        type: "transform",
        next: "end",
        output: {
          status: "approved",
          question: "{{input.question}}",
          answer: "{{steps.answer.output.text}}",
          review: "{{steps.review.output.text}}",
          sources: { $path: "$.steps.retrieve.output.results[*].title" },
          decision: "{{steps.approval.output}}",
        },
      },
      {
        id: "rejected",
        type: "transform",
        output: {
          status: "rejected",
          question: "{{input.question}}",
          answer: "{{steps.answer.output.text}}",
          review: "{{steps.review.output.text}}",
          decision: "{{steps.approval.output}}",
        },
      },
    ],
  },
});
