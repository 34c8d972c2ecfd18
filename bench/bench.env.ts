import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../src/app.factory';
import { loadConfig, type AppConfig } from '../src/config/app.config';

/** Shared set-up of the benchmarks: settings from the environment, the project root, the machine's load. */

/** An integer setting from the environment, or `fallback` when unset; anything else is refused. */
export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/**
 * The project root: CRM_ROOT_DIR, else the nearest folder above this file (or the working directory) that
 * holds `marker` (a path such as `metadata/schema/module.schema.json`), also when the bench was compiled
 * outside the repository.
 */
export function projectRoot(marker: string): string {
  if (process.env.CRM_ROOT_DIR) return process.env.CRM_ROOT_DIR;
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    if (existsSync(join(dir, marker))) return dir;
  }
  throw new Error(`cannot find the project root (${marker}); set CRM_ROOT_DIR`);
}

/** BENCH_SCHEMA or `fallback`: a dedicated schema the bench may drop, never `public`. */
export function benchSchema(fallback: string): string {
  const schema = process.env.BENCH_SCHEMA || fallback;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema) || schema === 'public') {
    throw new Error(`BENCH_SCHEMA must be a dedicated lower-case schema name, got "${schema}"`);
  }
  return schema;
}

/** The 1, 5 and 15 minute load averages, printed beside the figures (other work skews them). */
export const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

export const log = (line = '') => process.stdout.write(`${line}\n`);

/**
 * The engine's configuration for a bench: tables in `schema` on PostgreSQL (`databaseUrl`) or in-memory PGlite,
 * a fresh admin key, errors only in the log, the project root found by `marker`; `overrides` last.
 */
export function benchConfig(
  databaseUrl: string | undefined,
  schema: string,
  marker: string,
  overrides: Partial<AppConfig> = {},
): AppConfig & { adminApiKey: string } {
  const adminApiKey = `bench-${randomBytes(16).toString('hex')}`;
  return {
    ...loadConfig(process.env, {
      databaseUrl,
      databaseSchema: databaseUrl ? schema : 'public',
      dataDir: 'memory://',
      adminApiKey,
      logLevel: 'error',
      rootDir: projectRoot(marker),
      ...overrides,
    }),
    adminApiKey,
  };
}

/**
 * Starts the engine (BENCH_LOG=1 lets it log its errors, e.g. the cause of a non-2xx answer under load) and, with
 * `listen`, serves it on a random local port: `url` is its address.
 */
export async function startBenchEngine(config: AppConfig, listen = true): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await createApp(config, process.env.BENCH_LOG === '1' ? {} : { logger: false });
  if (!listen) return { app, url: '' };
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}
