import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ (ioredis, the client BullMQ is built and tested
 * with). `maxRetriesPerRequest: null` is what BullMQ's blocking worker commands
 * require; a connection that drops is re-established by ioredis.
 */
export function createRedis(url: string, connectionName?: string): Redis {
  return new Redis(url, { connectionName, maxRetriesPerRequest: null, lazyConnect: false });
}

/** The URL with its password masked, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
