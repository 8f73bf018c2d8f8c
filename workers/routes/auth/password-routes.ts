import type { App } from "../../app";
import { registerChangePassword } from "./change-password";
import { registerRequestPasswordReset } from "./password-reset";
import { registerConfirmPasswordReset } from "./password-reset-confirm";

/**
 * Password change (authenticated) and reset (public: /v1/auth/password-reset and
 * /v1/auth/password-reset/confirm must be listed in the entry's PUBLIC_PATHS).
 */
export function registerPasswordRoutes(app: App) {
  registerChangePassword(app);
  registerRequestPasswordReset(app);
  registerConfirmPasswordReset(app);
}
