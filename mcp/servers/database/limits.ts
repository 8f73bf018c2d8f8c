/** The database server's limits; docs/mcp-database.md lists them for users. */
export const LIMITS = {
  /** Rows `query` returns; PostgreSQL is asked for one more, to tell a full result from a cut one. */
  maxRows: 1000,
  /**
   * Result data read from the server for one statement, and the JSON of the rows returned: reading
   * stops (the connection is dropped) once this much has arrived, so one huge row cannot exhaust
   * the isolate's memory.
   */
  maxBytes: 1_048_576,
  /** `SET LOCAL statement_timeout` of every statement the server runs. */
  statementTimeoutMs: 5000,
  /** `SET LOCAL idle_in_transaction_session_timeout`: a Worker that died mid-call frees the session. */
  idleInTransactionMs: 10_000,
  /** Opening the connection (WebSocket, TLS, startup, authentication). */
  connectTimeoutMs: 10_000,
  /**
   * The whole call as the Worker sees it, in case the server never answers (a proxy that swallows
   * the cancel, a hung socket): then the connection is dropped and the call fails with `timeout`.
   */
  callDeadlineMs: 20_000,
  /** Characters of SQL `query` accepts. */
  maxSqlLength: 100_000,
  /** Tables and views `list_tables` returns. */
  maxListedTables: 1000,
  /** Tables and views `get_schema` describes. */
  maxSchemaTables: 200,
} as const;
