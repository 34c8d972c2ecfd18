/**
 * A first-in first-out async lock. PGlite has exactly one connection, so every
 * statement and every transaction must take turns; without this, a query issued
 * while another request's transaction is open would run inside that transaction.
 * (Small enough that a dependency would not pay for itself.)
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    // The next waiter starts when this one settles, whether it succeeded or not.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
