import type { App } from "../../app";
import { registerDeleteSecret } from "./delete-secret";
import { registerListSecrets } from "./list-secrets";
import { registerPutSecret } from "./put-secret";

/** Write-only tenant secrets: values go in, only names and timestamps come out. */
export function registerSecretsRoutes(app: App) {
  registerPutSecret(app);
  registerListSecrets(app);
  registerDeleteSecret(app);
}
