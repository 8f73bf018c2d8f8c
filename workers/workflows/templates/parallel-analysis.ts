import { z } from "zod";
import type { StepInput } from "../definition/schema";
import { defineTemplate, modelParameter } from "./types";

const PERSPECTIVES = [
  {
    key: "market",
    name: "market analyst",
    description: "Analyses a subject's market: demand, customers, competitors.",
    systemPrompt:
      "You are a market analyst. Assess demand, customers, competitors and timing for the subject " +
      "you are given. Be concrete and brief; say what evidence would change your view.",
  },
  {
    key: "risk",
    name: "risk analyst",
    description: "Analyses what could go wrong with a subject.",
    systemPrompt:
      "You are a risk analyst. List what could go wrong with the subject you are given (financial, " +
      "legal, operational, reputational), how likely and how bad each is, and how to mitigate it.",
  },
  {
    key: "technical",
    name: "technical analyst",
    description: "Analyses whether and how a subject can be built or delivered.",
    systemPrompt:
      "You are a technical analyst. Judge whether the subject you are given can be built or " +
      "delivered: the approach, the hard parts, the effort and the dependencies.",
  },
] as const;

/** One branch per perspective, each a single agent step; the branch's output is that step's. */
const branches = PERSPECTIVES.map((p): { id: string; steps: StepInput[] } => ({
  id: p.key,
  steps: [
    {
      id: `${p.key}_view`,
      name: `The ${p.name}'s view`,
      type: "agent",
      agentId: `@agent:${p.key}`,
      message: "Analyse this subject from your perspective:\n\n{{input.subject}}",
    },
  ],
}));

/** Three analysts work side by side; a fourth agent reconciles what they found. */
export const parallelAnalysis = defineTemplate({
  id: "parallel-analysis-synthesis",
  name: "Parallel analysis with synthesis",
  description:
    "Three analyst agents (market, risk, technical) look at the same subject at the same time in a " +
    "parallel step; a synthesis agent then weighs their views against each other and gives a " +
    "recommendation. The output has each view and the synthesis.",
  parameters: z.strictObject({ model: modelParameter }),
  agents: [
    ...PERSPECTIVES.map(({ key, name, description, systemPrompt }) => ({
      key,
      name,
      description,
      systemPrompt,
    })),
    {
      key: "synthesiser",
      name: "synthesiser",
      description: "Reconciles several analyses into one recommendation.",
      systemPrompt:
        "You reconcile analyses written from different perspectives. Point out where they agree and " +
        "where they conflict, weigh them, and end with a clear recommendation and its main condition.",
    },
  ],
  inputSchema: {
    type: "object",
    properties: {
      subject: {
        type: "string",
        minLength: 1,
        maxLength: 4000,
        description: "What to analyse: a product idea, a plan, a decision.",
      },
    },
    required: ["subject"],
    additionalProperties: false,
  },
  exampleInput: { subject: "Launching a refill subscription for our coffee grinders" },
  definition: {
    steps: [
      { id: "fan", name: "Analyse from three perspectives", type: "parallel", wait: "all", branches },
      {
        id: "synthesis",
        name: "Synthesise",
        type: "agent",
        agentId: "@agent:synthesiser",
        message:
          "Subject: {{input.subject}}\n\n" +
          "Market analysis:\n{{steps.fan.output.branches.market.text}}\n\n" +
          "Risk analysis:\n{{steps.fan.output.branches.risk.text}}\n\n" +
          "Technical analysis:\n{{steps.fan.output.branches.technical.text}}\n\n" +
          "Reconcile these analyses and recommend what to do.",
      },
    ],
    output: {
      subject: "{{input.subject}}",
      perspectives: {
        market: "{{steps.fan.output.branches.market.text}}",
        risk: "{{steps.fan.output.branches.risk.text}}",
        technical: "{{steps.fan.output.branches.technical.text}}",
      },
      synthesis: "{{steps.synthesis.output.text}}",
    },
  },
});
