import type { App } from "../../app";
import { registerCreateCollection } from "./create-collection";
import { registerDeleteCollection } from "./delete-collection";
import { registerGetCollection } from "./get-collection";
import { registerListCollections } from "./list-collections";
import { registerUpdateCollection } from "./update-collection";

/** Knowledge-base collections: each fixes an embedding model and holds documents. */
export function registerCollectionRoutes(app: App) {
  registerCreateCollection(app);
  registerListCollections(app);
  registerGetCollection(app);
  registerUpdateCollection(app);
  registerDeleteCollection(app);
}
