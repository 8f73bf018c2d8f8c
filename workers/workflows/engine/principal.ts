import type { RunActor } from "../../agents/run/spec";
import type { Principal } from "../../auth/principal";

/** The principal an execution's tool calls act as: whoever started it, with the role they had. */
export function actorPrincipal(tenantId: string, actor: RunActor): Principal {
  if (actor.kind === "user") {
    return {
      kind: "user",
      tenantId,
      userId: actor.id,
      role: actor.role,
      sessionId: "",
      jti: "",
      expiresAt: 0,
    };
  }
  if (actor.kind === "api_key") return { kind: "api_key", tenantId, keyId: actor.id, role: actor.role };
  return { kind: "platform_admin" };
}
