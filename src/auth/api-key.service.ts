import { Inject, Injectable, Logger } from '@nestjs/common';
import { UUID } from '../common/ids';
import { AppException } from '../common/app.exception';
import { RequestContext } from '../common/request-context';
import { ApiKeyQueries, ApiKeyRecord, ApiKeyRepository, ApiKeyStore } from './api-key.repository';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.secret';
import { validateCreateApiKeyInput } from './api-key.validation';
import { ADMIN_PERMISSION, assertPermission } from './permission.policy';

// The permission helpers live in permission.policy.ts; re-exported so callers can import them with the service.
export { assertPermission, hasPermission } from './permission.policy';

/** An API key as the admin API shows it: never the secret, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key, so people can tell their keys apart. */
  keyPrefix: string;
  permissions: string[];
  locked: boolean;
  /** The admin key created at first start (or from ADMIN_API_KEY); it cannot be locked or deleted. */
  bootstrap: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A newly created key: the only time the plain secret is returned. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

/** How long a resolved key is trusted without asking the database (other processes see a lock this late). */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** `last_used_at` is written at most this often per key: a write per request would be wasteful. */
export const API_KEY_TOUCH_INTERVAL_MS = 60_000;

const MAX_KEY_LENGTH = 512;
const CACHE_SWEEP_SIZE = 1_000;
const BOOTSTRAP_KEY_NAME = 'Bootstrap admin key';

interface CachedKey {
  id: string;
  locked: boolean;
  context: RequestContext;
  expiresAt: number;
}

/**
 * API keys: creating, listing, locking and deleting them, and turning a bearer secret into the
 * {@link RequestContext} of a request. Free of HTTP; the guard and the controller sit on top.
 */
@Injectable()
export class ApiKeyService {
  private readonly logger = new Logger(ApiKeyService.name);
  /** Resolved keys by hash, each trusted for {@link API_KEY_CACHE_TTL_MS}. */
  private readonly cache = new Map<string, CachedKey>();
  /** When this process last stamped `last_used_at`, by key id. */
  private readonly lastTouched = new Map<string, number>();
  /** Bumped on every invalidation, so a lookup that raced with a lock does not cache the old state. */
  private generation = 0;

  constructor(@Inject(ApiKeyRepository) private readonly keys: ApiKeyStore) {}

  /** All keys, oldest first. */
  async list(ctx: RequestContext): Promise<ApiKeyView[]> {
    assertPermission(ctx, ADMIN_PERMISSION);
    return (await this.keys.list()).map(toView);
  }

  /** Creates a key from untrusted `input` (`{ name, permissions }`); 422 with every problem when invalid. */
  async create(ctx: RequestContext, input: unknown): Promise<CreatedApiKey> {
    assertPermission(ctx, ADMIN_PERMISSION);
    const { name, permissions } = validateCreateApiKeyInput(input);
    const key = generateApiKey();
    const record = await this.keys.insert({ name, permissions, keyHash: hashApiKey(key), keyPrefix: displayPrefix(key), bootstrap: false });
    return { ...toView(record), key };
  }

  /** Locks a key: requests with it get 403 from now on (at once here, within seconds elsewhere). */
  async lock(ctx: RequestContext, id: string): Promise<ApiKeyView> {
    return this.setLocked(ctx, id, true);
  }

  /** Unlocks a key. */
  async unlock(ctx: RequestContext, id: string): Promise<ApiKeyView> {
    return this.setLocked(ctx, id, false);
  }

  /** Deletes a key for good. */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    assertPermission(ctx, ADMIN_PERMISSION);
    const deleted = UUID.test(id) ? await this.keys.deleteUnlessBootstrap(id) : undefined;
    if (!deleted) {
      await this.explainMissing(id, 'deleted');
      return;
    }
    this.invalidate(deleted.keyHash);
    this.lastTouched.delete(deleted.id);
  }

  /**
   * Resolves the secret from `Authorization: Bearer <secret>` to a request context.
   * Unknown secrets are 401 `invalid_api_key`, locked keys 403 `api_key_locked`.
   */
  async authenticate(bearer: string): Promise<RequestContext> {
    if (bearer.length === 0 || bearer.length > MAX_KEY_LENGTH) throw invalidKey();
    const hash = hashApiKey(bearer);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (entry === undefined || entry.expiresAt <= now) {
      const generation = this.generation;
      const record = await this.keys.findByHash(hash);
      if (!record) {
        this.cache.delete(hash);
        throw invalidKey();
      }
      entry = toCached(record, now + API_KEY_CACHE_TTL_MS);
      if (generation === this.generation) this.remember(hash, entry, now);
      if (record.lastUsedAt && !this.lastTouched.has(record.id)) this.lastTouched.set(record.id, record.lastUsedAt.getTime());
    }
    if (entry.locked) {
      throw new AppException(
        'forbidden',
        'api_key_locked',
        `The API key "${entry.context.actorName}" is locked; ask an administrator to unlock it or to give you another key.`,
      );
    }
    this.touch(entry.id, now);
    return entry.context;
  }

  /**
   * Makes sure the bootstrap admin key exists. With `adminApiKey` (ADMIN_API_KEY) that secret becomes
   * the bootstrap key, replacing the previous secret if the variable changed. Without it, a key is
   * generated on first start only. Returns the plain generated key (for the caller to show once), or
   * undefined when nothing was generated.
   */
  async ensureBootstrapKey(adminApiKey?: string): Promise<string | undefined> {
    let staleHash: string | undefined;
    const generated = await this.keys.withBootstrapLock(async (tx) => {
      const existing = await tx.findBootstrap();
      if (!adminApiKey) {
        if (existing) return undefined;
        const key = generateApiKey();
        await insertBootstrap(tx, key);
        return key;
      }
      const hash = hashApiKey(adminApiKey);
      const holder = await tx.findByHash(hash);
      if (holder && !holder.bootstrap) {
        // Silently turning someone's key into the admin key would be a privilege escalation.
        throw new AppException(
          'conflict',
          'admin_api_key_in_use',
          `ADMIN_API_KEY is the secret of the existing API key "${holder.name}" (${holder.id}); choose another value or delete that key.`,
        );
      }
      if (!existing) {
        await insertBootstrap(tx, adminApiKey);
      } else if (existing.keyHash !== hash || existing.locked || !isAdminOnly(existing.permissions)) {
        await tx.resetBootstrap(existing.id, hash, displayPrefix(adminApiKey));
        staleHash = existing.keyHash;
      }
      return undefined;
    });
    // Invalidate after the commit, so no lookup can re-cache the old row in between.
    if (staleHash !== undefined) this.invalidate(staleHash);
    return generated;
  }

  private async setLocked(ctx: RequestContext, id: string, locked: boolean): Promise<ApiKeyView> {
    assertPermission(ctx, ADMIN_PERMISSION);
    const updated = UUID.test(id) ? await this.keys.setLockedUnlessBootstrap(id, locked) : undefined;
    if (updated) {
      this.invalidate(updated.keyHash);
      return toView(updated);
    }
    // The bootstrap key is never locked, so unlocking it is a no-op rather than an error.
    const bootstrap = await this.explainMissing(id, 'locked', !locked);
    return toView(bootstrap);
  }

  /** Throws 404 for an unknown id, 409 for the bootstrap key unless `allowBootstrap`; returns the bootstrap key. */
  private async explainMissing(id: string, action: 'locked' | 'deleted', allowBootstrap = false): Promise<ApiKeyRecord> {
    const record = UUID.test(id) ? await this.keys.findById(id) : undefined;
    if (!record) throw new AppException('not_found', 'api_key_not_found', `No API key has the id "${id}".`);
    if (!record.bootstrap) {
      // Deleted or unmarked between our two statements: report what the caller can act on.
      throw new AppException('conflict', 'api_key_changed', `The API key "${id}" changed while it was being ${action}; try again.`);
    }
    if (!allowBootstrap) {
      throw new AppException(
        'conflict',
        'bootstrap_key_protected',
        `The bootstrap admin key cannot be ${action}. To replace its secret, set ADMIN_API_KEY to a new value and restart.`,
      );
    }
    return record;
  }

  private remember(hash: string, entry: CachedKey, now: number): void {
    if (this.cache.size >= CACHE_SWEEP_SIZE) {
      for (const [key, cached] of this.cache) if (cached.expiresAt <= now) this.cache.delete(key);
    }
    this.cache.set(hash, entry);
  }

  private invalidate(hash: string): void {
    this.generation++;
    this.cache.delete(hash);
  }

  /** Stamps `last_used_at` at most once a minute per key, off the request path. */
  private touch(id: string, now: number): void {
    const last = this.lastTouched.get(id);
    if (last !== undefined && now - last < API_KEY_TOUCH_INTERVAL_MS) return;
    this.lastTouched.set(id, now);
    this.keys.touchLastUsed(id).catch((error: unknown) => {
      this.logger.warn(`Could not record the last use of API key ${id}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}

function invalidKey(): AppException {
  return new AppException(
    'unauthorized',
    'invalid_api_key',
    'The API key is not valid. Send an existing, complete key as "Authorization: Bearer <key>".',
  );
}

async function insertBootstrap(tx: ApiKeyQueries, key: string): Promise<void> {
  await tx.insert({
    name: BOOTSTRAP_KEY_NAME,
    permissions: [ADMIN_PERMISSION],
    keyHash: hashApiKey(key),
    keyPrefix: displayPrefix(key),
    bootstrap: true,
  });
}

function isAdminOnly(permissions: string[]): boolean {
  return permissions.length === 1 && permissions[0] === ADMIN_PERMISSION;
}

function toCached(record: ApiKeyRecord, expiresAt: number): CachedKey {
  const context: RequestContext = Object.freeze({
    actorId: record.id,
    actorName: record.name,
    permissions: new Set(record.permissions) as ReadonlySet<string>,
    source: 'api' as const,
  });
  return { id: record.id, locked: record.locked, context, expiresAt };
}

function toView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    name: record.name,
    keyPrefix: record.keyPrefix,
    permissions: [...record.permissions],
    locked: record.locked,
    bootstrap: record.bootstrap,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: record.lastUsedAt === null ? null : record.lastUsedAt.toISOString(),
  };
}
