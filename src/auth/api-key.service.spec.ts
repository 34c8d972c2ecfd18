import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import { RequestContext, SYSTEM_CONTEXT } from '../common/request-context';
import { ApiKeyQueries, ApiKeyRecord, ApiKeyStore, NewApiKey } from './api-key.repository';
import { hashApiKey } from './api-key.secret';
import { API_KEY_CACHE_TTL_MS, API_KEY_TOUCH_INTERVAL_MS, ApiKeyService, assertPermission, hasPermission } from './api-key.service';

/** An in-memory stand-in for the api_keys table, counting lookups so the cache can be observed. */
class FakeApiKeyStore implements ApiKeyStore {
  readonly rows = new Map<string, ApiKeyRecord>();
  lookups = 0;
  touches: string[] = [];
  failTouches = false;

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    if ([...this.rows.values()].some((row) => row.keyHash === key.keyHash)) throw new Error('duplicate key_hash');
    const row: ApiKeyRecord = {
      id: randomUUID(),
      ...key,
      permissions: [...key.permissions],
      locked: false,
      createdAt: new Date(Date.now()),
      lastUsedAt: null,
    };
    this.rows.set(row.id, row);
    return { ...row };
  }
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.rows.values()].map((row) => ({ ...row }));
  }
  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.rows.get(id);
    return row && { ...row };
  }
  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    this.lookups++;
    const row = [...this.rows.values()].find((r) => r.keyHash === keyHash);
    return row && { ...row };
  }
  async findBootstrap(): Promise<ApiKeyRecord | undefined> {
    const row = [...this.rows.values()].find((r) => r.bootstrap);
    return row && { ...row };
  }
  async setLockedUnlessBootstrap(id: string, locked: boolean): Promise<ApiKeyRecord | undefined> {
    const row = this.rows.get(id);
    if (!row || row.bootstrap) return undefined;
    row.locked = locked;
    return { ...row };
  }
  async deleteUnlessBootstrap(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.rows.get(id);
    if (!row || row.bootstrap) return undefined;
    this.rows.delete(id);
    return row;
  }
  async resetBootstrap(id: string, keyHash: string, keyPrefix: string): Promise<ApiKeyRecord> {
    const row = this.rows.get(id)!;
    Object.assign(row, { keyHash, keyPrefix, permissions: ['admin'], locked: false });
    return { ...row };
  }
  async touchLastUsed(id: string): Promise<void> {
    this.touches.push(id);
    if (this.failTouches) throw new Error('database is down');
    const row = this.rows.get(id);
    if (row) row.lastUsedAt = new Date(Date.now());
  }
  async withBootstrapLock<T>(work: (tx: ApiKeyQueries) => Promise<T>): Promise<T> {
    return work(this);
  }
}

const ADMIN: RequestContext = SYSTEM_CONTEXT;
const context = (...permissions: string[]): RequestContext => ({
  actorId: 'k',
  actorName: 'k',
  permissions: new Set(permissions),
  source: 'api',
});

async function rejection(promise: Promise<unknown>): Promise<AppException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppException) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe(ApiKeyService.name, () => {
  let store: FakeApiKeyStore;
  let service: ApiKeyService;
  let now: number;

  beforeEach(() => {
    now = Date.parse('2025-01-01T00:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    store = new FakeApiKeyStore();
    service = new ApiKeyService(store);
  });

  afterEach(() => jest.restoreAllMocks());

  describe('create and list', () => {
    it('returns the secret once and stores only its hash', async () => {
      const created = await service.create(ADMIN, { name: '  Webshop  ', permissions: ['contacts:read', '*:read', 'contacts:read'] });

      expect(created.key).toMatch(/^mcrm_[0-9A-Za-z]{40}$/);
      expect(created).toMatchObject({
        name: 'Webshop',
        keyPrefix: created.key.slice(0, 12),
        permissions: ['contacts:read', '*:read'],
        locked: false,
        bootstrap: false,
        lastUsedAt: null,
      });
      const row = store.rows.get(created.id)!;
      expect(row.keyHash).toBe(hashApiKey(created.key));
      expect(JSON.stringify([...store.rows.values()])).not.toContain(created.key);

      const [listed] = await service.list(ADMIN);
      expect(Object.keys(listed).sort()).toEqual([
        'bootstrap',
        'createdAt',
        'id',
        'keyPrefix',
        'lastUsedAt',
        'locked',
        'name',
        'permissions',
      ]);
      expect(listed.createdAt).toBe('2025-01-01T00:00:00.000Z');
    });

    it('generates a different key every time', async () => {
      const a = await service.create(ADMIN, { name: 'a', permissions: [] });
      const b = await service.create(ADMIN, { name: 'b', permissions: [] });
      expect(a.key).not.toBe(b.key);
    });

    it('reports every problem of the input at once', async () => {
      const error = await rejection(
        service.create(ADMIN, { name: 'x'.repeat(101), permissions: ['contacts:write', 'Contacts:read', 7, 'admin'], owner: 'me' }),
      );

      expect(error).toMatchObject({ kind: 'validation', code: 'api_key_invalid' });
      expect(error.errors.map(({ field, code }) => ({ field, code }))).toEqual([
        { field: 'owner', code: 'unknown_field' },
        { field: 'name', code: 'too_long' },
        { field: 'permissions[0]', code: 'invalid_permission' },
        { field: 'permissions[1]', code: 'invalid_permission' },
        { field: 'permissions[2]', code: 'invalid_type' },
      ]);
      expect(error.errors[2].message).toContain('"contacts:write" is not a permission');
      expect(store.rows.size).toBe(0);
    });

    it.each([
      [
        {},
        [
          { field: 'name', code: 'required' },
          { field: 'permissions', code: 'required' },
        ],
      ],
      [
        { name: '   ', permissions: 'admin' },
        [
          { field: 'name', code: 'required' },
          { field: 'permissions', code: 'invalid_type' },
        ],
      ],
      [
        { name: 5, permissions: ['contacts:*'] },
        [
          { field: 'name', code: 'invalid_type' },
          { field: 'permissions[0]', code: 'invalid_permission' },
        ],
      ],
      [{ name: 'ok', permissions: [`a${'b'.repeat(48)}:read`] }, [{ field: 'permissions[0]', code: 'invalid_permission' }]],
    ])('rejects %j', async (input, expected) => {
      const error = await rejection(service.create(ADMIN, input));
      expect(error.errors.map(({ field, code }) => ({ field, code }))).toEqual(expected);
    });

    it('accepts the longest module name and the wildcard module', async () => {
      const created = await service.create(ADMIN, {
        name: 'x'.repeat(100),
        permissions: [`a${'b'.repeat(47)}:delete`, '*:update', 'admin'],
      });
      expect(created.permissions).toHaveLength(3);
    });

    it('rejects a body that is not an object', async () => {
      await expect(rejection(service.create(ADMIN, ['name']))).resolves.toMatchObject({ kind: 'bad_request', code: 'invalid_body' });
    });

    it('needs the admin permission', async () => {
      await expect(rejection(service.list(context('*:read')))).resolves.toMatchObject({ kind: 'forbidden', code: 'permission_denied' });
      await expect(rejection(service.create(context('contacts:create'), { name: 'x', permissions: ['admin'] }))).resolves.toMatchObject({
        kind: 'forbidden',
      });
    });
  });

  describe('authenticate', () => {
    it('resolves a key to its request context', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: ['contacts:read'] });

      const ctx = await service.authenticate(created.key);

      expect(ctx).toMatchObject({ actorId: created.id, actorName: 'Webshop', source: 'api' });
      expect([...ctx.permissions]).toEqual(['contacts:read']);
    });

    it('rejects unknown, empty and absurdly long keys with 401', async () => {
      for (const key of [`mcrm_${'a'.repeat(40)}`, '', 'x'.repeat(10_000)]) {
        await expect(rejection(service.authenticate(key))).resolves.toMatchObject({ kind: 'unauthorized', code: 'invalid_api_key' });
      }
    });

    it('caches a resolved key for at most 5 seconds', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: ['contacts:read'] });
      await service.authenticate(created.key);
      await service.authenticate(created.key);
      expect(store.lookups).toBe(1);

      // Another process locks the key: this one notices once the entry expires.
      store.rows.get(created.id)!.locked = true;
      now += API_KEY_CACHE_TTL_MS - 1;
      await expect(service.authenticate(created.key)).resolves.toBeDefined();
      now += 1;
      await expect(rejection(service.authenticate(created.key))).resolves.toMatchObject({ kind: 'forbidden', code: 'api_key_locked' });
      expect(store.lookups).toBe(2);
    });

    it('stamps last use at most once a minute, off the request path', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: [] });
      await service.authenticate(created.key);
      await service.authenticate(created.key);
      await flush();
      expect(store.touches).toEqual([created.id]);

      now += API_KEY_TOUCH_INTERVAL_MS;
      await service.authenticate(created.key);
      await flush();
      expect(store.touches).toHaveLength(2);
      expect((await service.list(ADMIN))[0].lastUsedAt).toBe(new Date(now).toISOString());
    });

    it('logs, and does not fail the request, when stamping last use fails', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: [] });
      store.failTouches = true;

      await expect(service.authenticate(created.key)).resolves.toMatchObject({ actorId: created.id });
      await flush();

      expect(warn).toHaveBeenCalledWith(expect.stringContaining('database is down'));
    });
  });

  describe('lock, unlock and delete', () => {
    it('locks at once, despite the cache, and unlocks', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: [] });
      await service.authenticate(created.key);

      await expect(service.lock(ADMIN, created.id)).resolves.toMatchObject({ id: created.id, locked: true });
      await expect(rejection(service.authenticate(created.key))).resolves.toMatchObject({ kind: 'forbidden', code: 'api_key_locked' });

      await expect(service.unlock(ADMIN, created.id)).resolves.toMatchObject({ locked: false });
      await expect(service.authenticate(created.key)).resolves.toMatchObject({ actorId: created.id });
    });

    it('deletes a key, which then no longer authenticates', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: [] });
      await service.authenticate(created.key);

      await service.delete(ADMIN, created.id);

      await expect(rejection(service.authenticate(created.key))).resolves.toMatchObject({ kind: 'unauthorized' });
      await expect(rejection(service.delete(ADMIN, created.id))).resolves.toMatchObject({ kind: 'not_found', code: 'api_key_not_found' });
    });

    it('answers 404 for unknown ids', async () => {
      for (const id of [randomUUID(), 'not-a-uuid']) {
        await expect(rejection(service.lock(ADMIN, id))).resolves.toMatchObject({ kind: 'not_found' });
        await expect(rejection(service.unlock(ADMIN, id))).resolves.toMatchObject({ kind: 'not_found' });
        await expect(rejection(service.delete(ADMIN, id))).resolves.toMatchObject({ kind: 'not_found' });
      }
    });

    it('needs the admin permission', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: [] });
      await expect(rejection(service.lock(context('*:update'), created.id))).resolves.toMatchObject({ kind: 'forbidden' });
      await expect(rejection(service.delete(context('*:delete'), created.id))).resolves.toMatchObject({ kind: 'forbidden' });
      expect(store.rows.get(created.id)!.locked).toBe(false);
    });
  });

  describe('ensureBootstrapKey', () => {
    it('generates an admin key on first start only, and returns it once', async () => {
      const key = await service.ensureBootstrapKey(undefined);

      expect(key).toMatch(/^mcrm_[0-9A-Za-z]{40}$/);
      const ctx = await service.authenticate(key!);
      expect([...ctx.permissions]).toEqual(['admin']);
      await expect(service.ensureBootstrapKey(undefined)).resolves.toBeUndefined();
      expect(store.rows.size).toBe(1);
    });

    it('protects the bootstrap key from locking and deletion', async () => {
      await service.ensureBootstrapKey(undefined);
      const [bootstrap] = await service.list(ADMIN);

      await expect(rejection(service.lock(ADMIN, bootstrap.id))).resolves.toMatchObject({
        kind: 'conflict',
        code: 'bootstrap_key_protected',
      });
      await expect(rejection(service.delete(ADMIN, bootstrap.id))).resolves.toMatchObject({
        kind: 'conflict',
        code: 'bootstrap_key_protected',
      });
      await expect(service.unlock(ADMIN, bootstrap.id)).resolves.toMatchObject({ id: bootstrap.id, locked: false });
      expect(store.rows.size).toBe(1);
    });

    it('uses ADMIN_API_KEY as the bootstrap secret and replaces it when the variable changes', async () => {
      await expect(service.ensureBootstrapKey('first-admin-secret-value')).resolves.toBeUndefined();
      const [first] = await service.list(ADMIN);
      expect(first).toMatchObject({ bootstrap: true, permissions: ['admin'], keyPrefix: 'firs' });
      await service.authenticate('first-admin-secret-value');

      await service.ensureBootstrapKey('second-admin-secret-value');

      await expect(rejection(service.authenticate('first-admin-secret-value'))).resolves.toMatchObject({ kind: 'unauthorized' });
      await expect(service.authenticate('second-admin-secret-value')).resolves.toMatchObject({ actorId: first.id });
      expect(store.rows.size).toBe(1);
    });

    it('takes over a generated bootstrap key when ADMIN_API_KEY is set later', async () => {
      const generated = await service.ensureBootstrapKey(undefined);
      await service.ensureBootstrapKey('chosen-admin-secret-value');

      await expect(rejection(service.authenticate(generated!))).resolves.toMatchObject({ kind: 'unauthorized' });
      await expect(service.authenticate('chosen-admin-secret-value')).resolves.toBeDefined();
      expect(store.rows.size).toBe(1);
    });

    it('refuses an ADMIN_API_KEY that is the secret of an ordinary key', async () => {
      const created = await service.create(ADMIN, { name: 'Webshop', permissions: ['contacts:read'] });

      await expect(rejection(service.ensureBootstrapKey(created.key))).resolves.toMatchObject({
        kind: 'conflict',
        code: 'admin_api_key_in_use',
      });
      expect(store.rows.get(created.id)!.permissions).toEqual(['contacts:read']);
    });
  });
});

describe(hasPermission.name, () => {
  it('grants admin everything, exact permissions, and *:<method> on every module', () => {
    expect(hasPermission(context('admin'), 'invoices:delete')).toBe(true);
    expect(hasPermission(context('admin'), 'admin')).toBe(true);
    expect(hasPermission(context('invoices:read'), 'invoices:read')).toBe(true);
    expect(hasPermission(context('*:read'), 'invoices:read')).toBe(true);
    expect(hasPermission(context('*:read'), 'invoices:update')).toBe(false);
    expect(hasPermission(context('contacts:read'), 'invoices:read')).toBe(false);
    expect(hasPermission(context('*:read', 'invoices:delete'), 'admin')).toBe(false);
  });

  it('assertPermission throws a 403 naming the missing permission', () => {
    expect(() => assertPermission(context('contacts:read'), 'contacts:create')).toThrow(
      expect.objectContaining({
        kind: 'forbidden',
        code: 'permission_denied',
        detail: 'This API key lacks the permission "contacts:create"',
      }),
    );
    expect(() => assertPermission(context('admin'), 'contacts:create')).not.toThrow();
  });
});
