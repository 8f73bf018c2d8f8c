import { z } from "zod";
import { defineTemplate, modelParameter } from "./types";

/**
 * Revenue of the sample shop's non-cancelled orders by product category, best first, with the
 * total on every row. Fixed SQL: the `query` tool takes no bind parameters, so nothing from an
 * execution's input is ever spliced into it.
 * Its rows are `[category, orders, revenue, total_revenue]`; revenues are numeric, so they come
 * back as exact decimal strings, which the calculator reads digit for digit.
 */
const SALES_BY_CATEGORY = `select p.category,
       count(distinct o.id)::int as orders,
       sum(i.quantity * i.unit_price) as revenue,
       sum(sum(i.quantity * i.unit_price)) over () as total_revenue
  from orders o
  join order_items i on i.order_id = o.id
  join products p on p.id = i.product_id
 where o.status <> 'cancelled'
 group by p.category
 order by revenue desc, p.category`;

/**
 * Tools do the data work, an agent writes it up: a read-only SQL query on the built-in `database`
 * server's sample shop, exact arithmetic on the built-in `calculator` server, a transform that
 * gathers the figures, and an analyst agent (with the calculator as a tool of its own) that
 * answers the caller's question from them.
 */
export const toolAugmentedDataTask = defineTemplate({
  id: "tool-augmented-data-task",
  name: "Tool-augmented data task",
  description:
    "Queries the built-in database MCP server's sample shop for revenue by product category, computes " +
    "the top category's share of revenue and its revenue per order with the calculator MCP server, " +
    "and has an analyst agent answer the caller's question from those figures. The output has the " +
    "figures and the report.",
  parameters: z.strictObject({ model: modelParameter }),
  agents: [
    {
      key: "analyst",
      name: "data analyst",
      description: "Writes short reports from figures it is given.",
      systemPrompt:
        "You are a data analyst. Answer the question from the figures you are given, in a short report " +
        "for a business reader. Quote the figures you use and never invent any; use the calculator " +
        "for any further arithmetic.",
      tools: [{ name: "calculator", type: "builtin" }],
    },
  ],
  inputSchema: {
    type: "object",
    properties: {
      question: {
        type: "string",
        minLength: 1,
        maxLength: 2000,
        description: "What the report should answer about the shop's sales.",
      },
    },
    required: ["question"],
    additionalProperties: false,
  },
  exampleInput: { question: "Which product category should we stock up on next quarter?" },
  definition: {
    steps: [
      {
        id: "sales",
        name: "Revenue by category (database)",
        type: "mcp_tool",
        server: "database",
        tool: "query",
        arguments: { sql: SALES_BY_CATEGORY },
        retry: { maxAttempts: 3, initialDelayMs: 500, retryOn: ["timeout", "tool_failed"] },
      },
      {
        id: "share",
        name: "Top category's share of revenue (calculator)",
        type: "mcp_tool",
        server: "calculator",
        tool: "divide",
        arguments: { a: "{{steps.sales.output.rows[0][2]}}", b: "{{steps.sales.output.rows[0][3]}}" },
      },
      {
        id: "percent",
        name: "As a percentage (calculator)",
        type: "mcp_tool",
        server: "calculator",
        tool: "multiply",
        arguments: { a: "{{steps.share.output.decimal}}", b: 100 },
      },
      {
        id: "per_order",
        name: "Top category's revenue per order (calculator)",
        type: "mcp_tool",
        server: "calculator",
        tool: "divide",
        arguments: { a: "{{steps.sales.output.rows[0][2]}}", b: "{{steps.sales.output.rows[0][1]}}" },
      },
      {
        id: "figures",
        name: "Gather the figures",
        type: "transform",
        output: {
          topCategory: "{{steps.sales.output.rows[0][0]}}",
          topCategoryOrders: "{{steps.sales.output.rows[0][1]}}",
          topCategoryRevenue: "{{steps.sales.output.rows[0][2]}}",
          totalRevenue: "{{steps.sales.output.rows[0][3]}}",
          topCategorySharePercent: "{{steps.percent.output.result}}",
          topCategoryRevenuePerOrder: "{{steps.per_order.output.result}}",
          byCategory: { $path: "$.steps.sales.output.rows" },
        },
      },
      {
        id: "report",
        name: "Write the report",
        type: "agent",
        agentId: "@agent:analyst",
        message:
          "Question: {{input.question}}\n\n" +
          "Figures (JSON; revenue of the shop's non-cancelled orders, by product category; byCategory " +
          "rows are [category, orders, revenue, total revenue]):\n{{steps.figures.output}}",
      },
    ],
    output: {
      question: "{{input.question}}",
      figures: "{{steps.figures.output}}",
      report: "{{steps.report.output.text}}",
    },
  },
});
