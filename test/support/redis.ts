import { Queue } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { createRedis } from '../../src/queue/redis-connection';

/** The Redis the queue tests use: `REDIS_URL`, or a local default. */
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

// Runs in a child process so the answer is known synchronously, while jest collects the tests.
const PROBE = `
const net = require('node:net');
const url = new URL(process.argv[1]);
const socket = net.connect({ host: url.hostname.replace(/^\\[(.*)\\]$/, '$1'), port: Number(url.port || 6379) });
const cmd = (...args) => '*' + args.length + '\\r\\n' + args.map((a) => '$' + Buffer.byteLength(a) + '\\r\\n' + a + '\\r\\n').join('');
socket.setTimeout(1500, () => process.exit(2));
socket.on('error', () => process.exit(1));
socket.on('connect', () => {
  if (url.password) socket.write(url.username ? cmd('AUTH', decodeURIComponent(url.username), decodeURIComponent(url.password)) : cmd('AUTH', decodeURIComponent(url.password)));
  socket.write(cmd('PING'));
});
let seen = '';
socket.on('data', (d) => { seen += d; if (seen.includes('+PONG')) process.exit(0); if (seen.startsWith('-')) process.exit(3); });
`;

let cached: boolean | undefined;

/** Whether Redis answers PING at {@link TEST_REDIS_URL}. */
export function redisAvailable(): boolean {
  cached ??= spawnSync(process.execPath, ['-e', PROBE, TEST_REDIS_URL], { timeout: 5000 }).status === 0;
  return cached;
}

/**
 * `describe` for tests that need a service. When the service is missing, the tests are skipped with
 * the reason printed, except under `CI=true`, where a missing service is a failing test: CI must
 * never pass by skipping them.
 */
export function describeIfService(available: boolean, missing: string, name: string, body: () => void): void {
  if (available) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the services it needs', () => {
        throw new Error(`${missing}: CI must provide it (.ci/run starts PostgreSQL and Redis)`);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${missing} (under CI=true this fails instead)`);
    describe.skip(name, body);
  }
}

/** Deletes a test's BullMQ queue from Redis (a test app drops its schema, but the queue of that schema would stay). */
export async function removeQueue(queueName: string): Promise<void> {
  const client = createRedis(TEST_REDIS_URL);
  const queue = new Queue(queueName, { connection: client });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
    await client.quit();
  }
}
