import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadUser } from "./load";
import { toUserResponse, userSchema } from "./schemas";

const route = createRoute({
  operationId: "getUser",
  tags: ["users"],
  method: "get",
  path: "/v1/users/{id}",
  summary: "Get a user of the tenant",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "user") }) },
  responses: {
    200: { description: "The user.", content: { "application/json": { schema: userSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export type GetUserResponse = z.infer<typeof userSchema>;

export function registerGetUser(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "users:read");
    const user = await loadUser(c.get("db"), c.req.valid("param").id);
    return c.json(toUserResponse(user), 200);
  });
}
