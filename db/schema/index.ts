export * from "./agents";
export * from "./columns";
export * from "./mcp";
export * from "./rag";
export * from "./tenants";
export * from "./usage";
export * from "./webhooks";
export * from "./workflows";
