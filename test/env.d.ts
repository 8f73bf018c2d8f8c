declare module "vitest" {
  export interface ProvidedContext {
    /** String bindings for the Worker under test (database, Redis, keys). */
    workerBindings: Record<string, string>;
    /** What the global setup connected to: "server" (real services) or "embedded". */
    stack: "server" | "embedded";
    /** URL of the test database as the table owner (meridian_owner), for tests that inspect or backdate rows. */
    ownerDatabaseUrl: string;
  }
}

export {};
