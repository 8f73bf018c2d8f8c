import type { Client } from "@neondatabase/serverless";

/** Runs work on a database connection; `ingestDocument` runs each of its transactions through it. */
export interface Connections {
  use<T>(fn: (client: Client) => Promise<T>): Promise<T>;
}

/**
 * A few connections shared by concurrent work (the messages of one queue batch), handed out one
 * transaction at a time: a new connection costs a round trip to open, another to close, and a
 * cold backend (catalog, pgvector and the text-search dictionary loaded on first use), which a
 * reused one pays once. Between its transactions a message holds nothing, so while one parses
 * or embeds, another's transaction runs on the same connection.
 *
 * A transaction that throws may leave its connection broken (a lost socket, a failed ROLLBACK),
 * so that connection is dropped and the next transaction opens a fresh one: one message's
 * failure never reaches the others. A connection that ends while idle is dropped as well.
 *
 * @example
 * const connections = new SharedConnections(() => connect(config), 2);
 * try { await connections.use((client) => withTenant(client, tenantId, fn)); } finally { await connections.close(); }
 */
export class SharedConnections implements Connections {
  private readonly idle: Client[] = [];
  private readonly dead = new WeakSet<Client>();
  /** Callers waiting for a connection: handed one that was released, or null to open their own. */
  private readonly waiting: ((client: Client | null) => void)[] = [];
  private readonly all = new Set<Client>();
  private opened = 0;

  /**
   * @param open opens one connection (`connect(config)`)
   * @param max connections open at once; a transaction beyond them waits for one. @default 1
   */
  constructor(
    private readonly open: () => Promise<Client>,
    private readonly max = 1,
  ) {}

  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let result: T;
    try {
      result = await fn(client);
    } catch (error) {
      this.drop(client);
      throw error;
    }
    this.release(client);
    return result;
  }

  /** Ends every connection; call once the work sharing them is done. */
  async close(): Promise<void> {
    const clients = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }

  private async acquire(): Promise<Client> {
    const reused = this.takeIdle();
    if (reused) return reused;
    if (this.opened < this.max) this.opened++;
    else {
      const handed = await new Promise<Client | null>((resolve) => this.waiting.push(resolve));
      if (handed) return handed;
    }
    try {
      const client = await this.open();
      this.all.add(client);
      const died = () => this.dead.add(client);
      client.on("end", died);
      client.on("error", died);
      return client;
    } catch (error) {
      this.freeSlot();
      throw error;
    }
  }

  /** An idle connection still alive; the dead ones found on the way give their slots up. */
  private takeIdle(): Client | undefined {
    for (let client = this.idle.pop(); client; client = this.idle.pop()) {
      if (!this.dead.has(client)) return client;
      this.all.delete(client);
      this.opened--;
    }
    return undefined;
  }

  private release(client: Client): void {
    if (this.dead.has(client)) {
      this.drop(client);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(client);
    else this.idle.push(client);
  }

  private drop(client: Client): void {
    this.all.delete(client);
    client.end().catch(() => undefined);
    this.freeSlot();
  }

  /** A connection's slot is free: it passes to the first waiting caller, who opens its own. */
  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next) next(null);
    else this.opened--;
  }
}

/** One connection the caller owns and closes: a test's, or a single job's. */
export function oneConnection(client: Client): Connections {
  return { use: (fn) => fn(client) };
}
