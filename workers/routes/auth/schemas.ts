import { z } from "@hono/zod-openapi";

export const tokenPairSchema = z
  .object({
    tokenType: z.literal("Bearer"),
    accessToken: z.string().openapi({ description: "Short-lived JWT; send as Authorization: Bearer." }),
    expiresIn: z
      .number()
      .int()
      .openapi({ description: "Seconds until the access token expires.", example: 900 }),
    refreshToken: z
      .string()
      .openapi({ description: "Opaque; exchange at /v1/auth/refresh. Rotates on use." }),
    refreshExpiresIn: z.number().int().openapi({ example: 2592000 }),
  })
  .openapi("TokenPair");
export type TokenPair = z.infer<typeof tokenPairSchema>;
