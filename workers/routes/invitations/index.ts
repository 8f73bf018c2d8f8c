import type { App } from "../../app";
import { registerAcceptInvitation } from "./accept-invitation";
import { registerCreateInvitation } from "./create-invitation";
import { registerListInvitations } from "./list-invitations";
import { registerRevokeInvitation } from "./revoke-invitation";

/**
 * Invitations. POST /v1/invitations/accept is public (the emailed token is the credential) and
 * must be listed in the entry's PUBLIC_PATHS; the others run in the caller's tenant.
 */
export function registerInvitationRoutes(app: App) {
  registerAcceptInvitation(app);
  registerCreateInvitation(app);
  registerListInvitations(app);
  registerRevokeInvitation(app);
}
