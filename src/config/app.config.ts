import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The engine's configuration: the only place that reads `process.env`.
 * {@link loadConfig} validates every variable and reports all problems at once.
 */
export interface AppConfig {
  port: number;
  /** PostgreSQL connection string; unset means embedded PGlite in {@link dataDir}. */
  databaseUrl?: string;
  /** PostgreSQL schema the engine's tables live in (tests use one schema each). */
  databaseSchema: string;
  /** PGlite data directory, or `memory://` for a throw-away database. */
  dataDir: string;
  /** Redis for the job queue (BullMQ); unset means the in-process queue. */
  redisUrl?: string;
  /**
   * What this process runs (`PROCESS_ROLE`): `all` (HTTP and queue workers, the default), `api` (HTTP;
   * jobs are queued for worker processes) or `worker` (queue workers, no HTTP: `npm run start:worker`).
   * `api` and `worker` need `REDIS_URL`: the in-process queue cannot hand jobs to another process.
   */
  processRole: ProcessRole;
  /** Jobs one process runs at once (`QUEUE_CONCURRENCY`), on either queue driver. */
  queueConcurrency: number;
  adminApiKey?: string;
  smtpUrl?: string;
  /** The `From` of outgoing mail (`MAIL_FROM`). */
  mailFrom: string;
  chromiumPath?: string;
  /** Signs every webhook (HMAC-SHA256); webhooks are refused without it. */
  webhookSecret?: string;
  /** Hosts webhooks may reach although they resolve to private, loopback or link-local addresses. */
  webhookAllowedHosts: string[];
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** Project root: where `modules/`, `metadata/` and `templates/` are read from. */
  rootDir: string;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
}

export class ConfigException extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export const PROCESS_ROLES = ['all', 'api', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AppConfig> = {}): AppConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${parsed.protocol}//"`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const logLevel = (env.LOG_LEVEL ?? 'log') as AppConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const schema = env.DATABASE_SCHEMA ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) problems.push(`DATABASE_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
  const adminApiKey = env.ADMIN_API_KEY || undefined;
  const processRole = (env.PROCESS_ROLE || 'all') as ProcessRole;
  if (!PROCESS_ROLES.includes(processRole))
    problems.push(`PROCESS_ROLE must be one of ${PROCESS_ROLES.join(', ')}, got "${env.PROCESS_ROLE}"`);
  if (adminApiKey !== undefined && adminApiKey.length < 16) problems.push('ADMIN_API_KEY must be at least 16 characters long');

  const config: AppConfig = {
    port: int('PORT', 3000, 0, 65535),
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseSchema: schema,
    dataDir: env.DATA_DIR === 'memory://' ? 'memory://' : resolve(env.DATA_DIR || './data'),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    processRole,
    queueConcurrency: int('QUEUE_CONCURRENCY', 8, 1, 256),
    adminApiKey,
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: env.MAIL_FROM || 'metacrm <no-reply@localhost>',
    chromiumPath: env.CHROMIUM_PATH || undefined,
    webhookSecret: env.WEBHOOK_SECRET || undefined,
    webhookAllowedHosts: (env.WEBHOOK_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    logLevel,
    rootDir: resolve(env.CRM_ROOT_DIR || projectRoot()),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    ...overrides,
  };
  if ((config.processRole === 'api' || config.processRole === 'worker') && !config.redisUrl) {
    problems.push(
      config.processRole === 'api'
        ? 'PROCESS_ROLE=api needs REDIS_URL: without Redis the job queue runs inside each process, so an API process that runs no workers would queue jobs nobody runs'
        : 'PROCESS_ROLE=worker needs REDIS_URL: without Redis the job queue runs inside each process, so a separate worker process would get no jobs',
    );
  }
  if (problems.length > 0) throw new ConfigException(problems);
  return config;
}

/** Nest injection token for the {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** The folder holding package.json above this file, whether run from `src/` or from `dist/src/`. */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
