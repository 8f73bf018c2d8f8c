import { z } from "zod";
import { defineTemplate, modelParameter } from "./types";

/** The supervisor pattern: one agent step whose agent delegates to two worker agents as tools. */
export const supervisorWithWorkers = defineTemplate({
  id: "supervisor-with-workers",
  name: "Supervisor with worker agents",
  description:
    "One agent step runs a supervisor agent whose tools are two other agents: a researcher that finds " +
    "the facts and a writer that drafts the deliverable. The supervisor decides whom to ask what, " +
    "and each delegation is a real run of the worker, recorded as an agent task with its request " +
    "and response messages (GET /v1/agent-messages?executionId=...).",
  parameters: z.strictObject({ model: modelParameter }),
  agents: [
    {
      key: "researcher",
      name: "researcher",
      description: "Worker: finds and checks the facts a task needs.",
      systemPrompt:
        "You are a researcher working for a supervisor. Answer the question you are sent with the " +
        "relevant facts, briefly, and say what you could not establish.",
    },
    {
      key: "writer",
      name: "writer",
      description: "Worker: drafts text from a brief and the facts it is given.",
      systemPrompt:
        "You are a writer working for a supervisor. Draft exactly what the brief asks for, using only " +
        "the facts it gives you, in a clear and friendly tone.",
    },
    {
      key: "supervisor",
      name: "supervisor",
      description: "Splits a task between the researcher and the writer and checks their work.",
      systemPrompt:
        "You supervise two workers. For each task: ask the researcher for the facts it needs, then " +
        "send the writer a complete brief with those facts (the workers see nothing but your message), " +
        "check the draft against the facts and answer with the final text.",
      tools: [
        {
          name: "ask_researcher",
          type: "agent",
          description: "Ask the researcher a question; it answers with the facts it finds.",
          config: { agentId: "@agent:researcher" },
        },
        {
          name: "ask_writer",
          type: "agent",
          description: "Send the writer a complete brief (task, facts, tone); it answers with a draft.",
          config: { agentId: "@agent:writer" },
        },
      ],
    },
  ],
  inputSchema: {
    type: "object",
    properties: {
      task: {
        type: "string",
        minLength: 1,
        maxLength: 20000,
        description: "What the supervisor should get done.",
      },
    },
    required: ["task"],
    additionalProperties: false,
  },
  exampleInput: { task: "Write a short customer reply explaining how long refunds take." },
  definition: {
    steps: [
      {
        id: "supervise",
        name: "Supervisor delegates to the workers",
        type: "agent",
        agentId: "@agent:supervisor",
        message: "{{input.task}}",
      },
    ],
    output: { task: "{{input.task}}", result: "{{steps.supervise.output.text}}" },
  },
});
