import { z } from "zod";
import { defineTemplate, modelParameter } from "./types";

/** A sequential pipeline: one agent's answer is the next one's material. */
export const researchThenSummarise = defineTemplate({
  id: "research-then-summarise",
  name: "Research, then summarise",
  description:
    "A sequential pipeline: a researcher agent writes notes on a topic, then a summariser agent turns " +
    "those notes into a short summary. The output has both.",
  parameters: z.strictObject({ model: modelParameter }),
  agents: [
    {
      key: "researcher",
      name: "researcher",
      description: "Writes research notes on a topic.",
      systemPrompt:
        "You are a careful researcher. Given a topic, write notes with the key facts, figures, " +
        "competing views and open questions. Say when you are unsure; never invent sources.",
    },
    {
      key: "summariser",
      name: "summariser",
      description: "Condenses research notes into a short summary.",
      systemPrompt:
        "You summarise research notes for a busy reader: at most five bullet points, most important " +
        "first, keeping the notes' figures and caveats. Add nothing the notes do not say.",
    },
  ],
  inputSchema: {
    type: "object",
    properties: {
      topic: { type: "string", minLength: 1, maxLength: 2000, description: "What to research." },
    },
    required: ["topic"],
    additionalProperties: false,
  },
  exampleInput: { topic: "How tides work" },
  definition: {
    steps: [
      {
        id: "research",
        name: "Research the topic",
        type: "agent",
        agentId: "@agent:researcher",
        message: "Research this topic and write your notes:\n\n{{input.topic}}",
      },
      {
        id: "summarise",
        name: "Summarise the notes",
        type: "agent",
        agentId: "@agent:summariser",
        message: 'Summarise these research notes on "{{input.topic}}":\n\n{{steps.research.output.text}}',
      },
    ],
    output: {
      topic: "{{input.topic}}",
      notes: "{{steps.research.output.text}}",
      summary: "{{steps.summarise.output.text}}",
    },
  },
});
