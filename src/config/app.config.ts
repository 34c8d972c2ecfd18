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
  redisUrl?: string;
  adminApiKey?: string;
  smtpUrl?: string;
  chromiumPath?: string;
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
  if (adminApiKey !== undefined && adminApiKey.length < 16) problems.push('ADMIN_API_KEY must be at least 16 characters long');

  const config: AppConfig = {
    port: int('PORT', 3000, 0, 65535),
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseSchema: schema,
    dataDir: env.DATA_DIR === 'memory://' ? 'memory://' : resolve(env.DATA_DIR || './data'),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    adminApiKey,
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    chromiumPath: env.CHROMIUM_PATH || undefined,
    logLevel,
    rootDir: resolve(env.CRM_ROOT_DIR || projectRoot()),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    ...overrides,
  };
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
