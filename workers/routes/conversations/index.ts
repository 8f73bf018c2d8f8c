import type { App } from "../../app";
import { registerDeleteConversation } from "./delete-conversation";
import { registerGetConversation } from "./get-conversation";
import { registerListConversations } from "./list-conversations";
import { registerRestoreConversation } from "./restore-conversation";

/** Reading and deleting conversations; runs create them (execution routes). */
export function registerConversationsRoutes(app: App) {
  registerListConversations(app);
  registerGetConversation(app);
  registerDeleteConversation(app);
  registerRestoreConversation(app);
}
