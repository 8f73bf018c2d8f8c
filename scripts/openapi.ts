/** `npm run openapi`: prints the OpenAPI 3.1 document (for SDK generators). */
import { app } from "../workers/api.ts";
import { openApiDocument } from "../workers/routes/docs/openapi.ts";

console.log(JSON.stringify(openApiDocument(app), null, 2));
