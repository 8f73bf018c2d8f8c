import { randomBytes } from "node:crypto";

/** Fresh random secrets for a local run: nothing sensitive is ever checked in. */
export function localSecrets(): Record<string, string> {
  return {
    AUTH_JWT_SECRETS: `local-${randomBytes(3).toString("hex")}:${randomBytes(32).toString("base64url")}`,
    SECRETS_MASTER_KEYS: `local-${randomBytes(3).toString("hex")}:${randomBytes(32).toString("base64")}`,
    PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
    PLATFORM_ADMIN_TOKEN: `mrdn_admin_${randomBytes(24).toString("base64url")}`,
  };
}
