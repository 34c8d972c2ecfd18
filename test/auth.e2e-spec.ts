import { account, createKey } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

describe('API keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('succeeds', () => {
    it('reaches /health without a key and reports the database', async () => {
      const res = await t.http.get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', database: { status: 'up', kind: t.db.kind } });
    });

    it('creates a key whose secret is shown once and stored hashed; lists keys without secrets', async () => {
      const res = await t.http
        .post('/api/v1/admin/api-keys')
        .set('Authorization', t.auth)
        .send({ name: 'ERP sync', permissions: ['accounts:read'] });
      expect(res.status).toBe(201);
      const { key, id } = res.body.data;
      expect(key).toMatch(/^mcrm_[0-9A-Za-z]{40}$/);
      const stored = await t.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [id]);
      expect(stored[0].key_hash).not.toContain(key);
      expect(stored[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
      const list = await t.http.get('/api/v1/admin/api-keys').set('Authorization', t.auth);
      const listed = list.body.data.find((k: { id: string }) => k.id === id);
      expect(listed).toMatchObject({ name: 'ERP sync', permissions: ['accounts:read'], locked: false });
      expect(JSON.stringify(list.body)).not.toContain(key);
    });

    it('grants exactly the listed permissions per module and method', async () => {
      const reader = await createKey(t, ['accounts:read']);
      const acc = await account(t);
      expect((await t.http.get(`/api/v1/accounts/${acc.id}`).set('Authorization', reader)).status).toBe(200);
      expect((await t.http.get('/api/v1/accounts').set('Authorization', reader)).status).toBe(200);
      const create = await t.http.post('/api/v1/accounts').set('Authorization', reader).send({ name: 'No' });
      expect(create.status).toBe(403);
      expect(create.body.detail).toContain('accounts:create');
      expect((await t.http.get('/api/v1/contacts').set('Authorization', reader)).status).toBe(403);
      expect((await t.http.get('/api/v1/admin/api-keys').set('Authorization', reader)).status).toBe(403);
      expect((await t.http.get('/api/v1/admin/metadata/modules').set('Authorization', reader)).status).toBe(403);
    });

    it('records the key as the actor of a change', async () => {
      const writer = await createKey(t, ['opportunities:create', 'opportunities:read'], 'web form');
      const res = await t.http.post('/api/v1/opportunities').set('Authorization', writer).send({ name: 'Lead' });
      expect(res.status).toBe(201);
      const history = await t.http.get(`/api/v1/opportunities/${res.body.data.id}/history`).set('Authorization', writer);
      expect(history.body.data[0].actor.name).toBe('web form');
    });

    it('locks, unlocks and deletes a key, effective at once', async () => {
      const created = await t.http
        .post('/api/v1/admin/api-keys')
        .set('Authorization', t.auth)
        .send({ name: 'temp', permissions: ['accounts:read'] });
      const key = `Bearer ${created.body.data.key}`;
      const id = created.body.data.id;
      expect((await t.http.get('/api/v1/accounts').set('Authorization', key)).status).toBe(200);
      expect((await t.http.post(`/api/v1/admin/api-keys/${id}/lock`).set('Authorization', t.auth)).body.data.locked).toBe(true);
      const locked = await t.http.get('/api/v1/accounts').set('Authorization', key);
      expect(locked.status).toBe(403);
      expect(locked.body.type).toBe('/problems/api_key_locked');
      await t.http.post(`/api/v1/admin/api-keys/${id}/unlock`).set('Authorization', t.auth);
      expect((await t.http.get('/api/v1/accounts').set('Authorization', key)).status).toBe(200);
      expect((await t.http.delete(`/api/v1/admin/api-keys/${id}`).set('Authorization', t.auth)).status).toBe(204);
      expect((await t.http.get('/api/v1/accounts').set('Authorization', key)).status).toBe(401);
    });
  });

  describe('fails', () => {
    it.each([
      ['GET', '/api/v1/accounts'],
      ['POST', '/api/v1/accounts'],
      ['GET', '/api/v1/admin/api-keys'],
      ['GET', '/api/v1/admin/metadata/modules'],
      ['GET', '/api/openapi.json'],
      ['GET', '/api/v1/accounts/00000000-0000-4000-8000-000000000000/history'],
    ])('answers 401 problem+json to %s %s without a key', async (method, path) => {
      const res = await t.http[method.toLowerCase() as 'get' | 'post'](path);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.body).toMatchObject({
        status: 401,
        type: '/problems/missing_api_key',
        detail: expect.stringContaining('Authorization: Bearer'),
      });
    });

    it('answers 401 to an unknown key and a malformed header', async () => {
      expect((await t.http.get('/api/v1/accounts').set('Authorization', 'Bearer mcrm_nope')).status).toBe(401);
      expect((await t.http.get('/api/v1/accounts').set('Authorization', 'Basic abc')).status).toBe(401);
    });

    it('rejects bad key definitions with field errors', async () => {
      const res = await t.http
        .post('/api/v1/admin/api-keys')
        .set('Authorization', t.auth)
        .send({ name: '', permissions: ['accounts:fly', 'DROP TABLE'] });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(
        expect.arrayContaining(['name', 'permissions[0]', 'permissions[1]']),
      );
    });

    it('refuses to delete or lock the bootstrap admin key', async () => {
      const list = await t.http.get('/api/v1/admin/api-keys').set('Authorization', t.auth);
      const bootstrap = list.body.data.find((k: { bootstrap: boolean }) => k.bootstrap);
      expect((await t.http.delete(`/api/v1/admin/api-keys/${bootstrap.id}`).set('Authorization', t.auth)).status).toBe(409);
      expect((await t.http.post(`/api/v1/admin/api-keys/${bootstrap.id}/lock`).set('Authorization', t.auth)).status).toBe(409);
    });
  });
});

describe('bootstrap key without ADMIN_API_KEY', () => {
  it('generates one admin key at first start and prints it once', async () => {
    const { Logger } = await import('@nestjs/common');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const t = await startTestApp({ adminApiKey: undefined });
    try {
      const printed = warn.mock.calls.map((c) => String(c[0])).join('\n');
      const key = /mcrm_[0-9A-Za-z]{40}/.exec(printed)?.[0];
      expect(key).toBeDefined();
      const res = await t.http.get('/api/v1/admin/api-keys').set('Authorization', `Bearer ${key}`);
      expect(res.status).toBe(200);
      expect(res.body.data.filter((k: { bootstrap: boolean }) => k.bootstrap)).toHaveLength(1);
    } finally {
      warn.mockRestore();
      await t.close();
    }
  });
});
