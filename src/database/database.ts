/**
 * The database port. Everything that talks SQL goes through a {@link Database}:
 * on PostgreSQL it is backed by a connection pool, on embedded PGlite by the one
 * in-process connection (queries and transactions are serialised there).
 */
export interface SqlExecutor {
  /** Run one parameterised statement ($1, $2, ...) and return its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Run `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Whether the database answers (for /health). */
  ping(): Promise<boolean>;
  /**
   * Delivers notifications sent on `channel` (PostgreSQL LISTEN/NOTIFY) from any
   * process, until the returned function is called. On PGlite, which serves one
   * process, there is nobody else to hear from and this does nothing.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends `payload` on `channel` to every listening process. */
  notify(channel: string, payload: string): Promise<void>;
}

/** Nest injection token for the {@link Database}. */
export const DATABASE = Symbol('DATABASE');
