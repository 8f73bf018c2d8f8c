declare module "vitest" {
  export interface ProvidedContext {
    /** String bindings for the Worker under test (database, Redis, keys). */
    workerBindings: Record<string, string>;
    /** What the global setup connected to: "server" (real services) or "embedded". */
    stack: "server" | "embedded";
    /** Superuser URL of the test database, for tests that inspect it from the outside. */
    ownerDatabaseUrl: string;
  }
}

export {};
