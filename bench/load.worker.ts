/**
 * Runs autocannon in a child process, so the load generator never shares an event
 * loop with the servers it measures (it still shares the machine's cores).
 * The parent sends a {@link LoadSpec} over IPC and gets a {@link LoadResult} back.
 */
import { join } from 'node:path';
import { ChildRunner, serveChild } from './child-runner';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** When given, each request picks one of these paths at random (e.g. GET by many ids). */
  paths?: string[];
  connections: number;
  durationSeconds: number;
  /** Seconds of unmeasured load first (JIT, caches, pool connections). */
  warmupSeconds: number;
}

export interface LoadResult {
  requests: number;
  /** Completed requests per second over the measured run. */
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

// Minimal shape of the parts of autocannon 9 used here (the package ships no types).
interface AutocannonRequest {
  method?: string;
  path?: string;
  setupRequest?: (request: { path: string }) => { path: string };
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number; average: number };
  requests: { total: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as Autocannon;
  const paths = spec.paths;
  const requests: AutocannonRequest[] | undefined = paths
    ? [
        {
          setupRequest: (request) => {
            request.path = paths[Math.floor(Math.random() * paths.length)];
            return request;
          },
        },
      ]
    : undefined;
  const options = (duration: number) => ({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    requests,
    connections: spec.connections,
    duration,
    timeout: 30,
  });
  if (spec.warmupSeconds > 0) await autocannon(options(spec.warmupSeconds));
  const result = await autocannon(options(spec.durationSeconds));
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(stats.count);
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

/** The parent's handle on the load generator process. */
export type LoadGenerator = ChildRunner<LoadSpec, LoadResult>;
export const LoadGenerator = {
  start: (): LoadGenerator => ChildRunner.start(join(__dirname, 'load.worker.js'), 'load generator'),
};

if (require.main === module && process.argv.includes('--child')) serveChild(runAutocannon);
