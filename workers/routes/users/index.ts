import type { App } from "../../app";
import { registerDeleteUser } from "./delete-user";
import { registerGetUser } from "./get-user";
import { registerListUsers } from "./list-users";
import { registerUpdateUser } from "./update-user";

/** The tenant's user administration: /v1/users and /v1/users/{id}. */
export function registerUserRoutes(app: App) {
  registerListUsers(app);
  registerGetUser(app);
  registerUpdateUser(app);
  registerDeleteUser(app);
}
