import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

describe('records API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('succeeds', () => {
    it('creates a record with a number, version, ETag and Location', async () => {
      const res = await t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'Acme AB', type: 'customer' });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ name: 'Acme AB', type: 'customer', module: 'accounts', version: 1, archivedAt: null });
      expect(res.body.data.number).toMatch(/^ACC-\d{5}$/);
      expect(res.headers.etag).toBe('"1"');
      expect(res.headers.location).toBe(`/api/v1/accounts/${res.body.data.id}`);
    });

    it('reads a record by id with its ETag', async () => {
      const created = await account(t);
      const res = await t.http.get(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(created);
      expect(res.headers.etag).toBe('"1"');
    });

    it('applies defaults on create', async () => {
      const acc = await account(t);
      const inv = await createRecord(t, 'invoices', { subject: 'Consulting', account: acc.id });
      expect(inv.status).toBe('draft');
    });

    it('updates with If-Match and bumps the version; a stale If-Match gets 412 and the newer data stays', async () => {
      const created = await account(t, { name: 'Before' });
      const ok = await t.http
        .patch(`/api/v1/accounts/${created.id}`)
        .set('Authorization', t.auth)
        .set('If-Match', '"1"')
        .send({ name: 'After' });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ name: 'After', version: 2 });
      expect(ok.headers.etag).toBe('"2"');

      const stale = await t.http
        .patch(`/api/v1/accounts/${created.id}`)
        .set('Authorization', t.auth)
        .set('If-Match', '"1"')
        .send({ name: 'Lost update' });
      expect(stale.status).toBe(412);
      expect(stale.headers['content-type']).toContain('application/problem+json');
      expect(stale.body).toMatchObject({ status: 412, type: '/problems/stale_version', currentVersion: 2 });
      const now = await t.http.get(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth);
      expect(now.body.data).toMatchObject({ name: 'After', version: 2 });
    });

    it('clears a field with null', async () => {
      const created = await account(t, { city: 'Luleå' });
      const res = await t.http.patch(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth).send({ city: null });
      expect(res.status).toBe(200);
      expect(res.body.data.city).toBeUndefined();
    });

    it('deletes with If-Match; a stale one is refused', async () => {
      const created = await account(t);
      expect((await t.http.delete(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth).set('If-Match', '"9"')).status).toBe(412);
      expect((await t.http.delete(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth).set('If-Match', '"1"')).status).toBe(204);
      expect((await t.http.get(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth)).status).toBe(404);
    });

    it('refuses to delete a record other records point to', async () => {
      const acc = await account(t);
      await createRecord(t, 'contacts', { last_name: 'Berg', account: acc.id });
      const res = await t.http.delete(`/api/v1/accounts/${acc.id}`).set('Authorization', t.auth);
      expect(res.status).toBe(409);
      expect(res.body.detail).toContain('contacts');
    });

    it('archives and unarchives; archived records leave lists unless archived=include', async () => {
      const city = `Archive-${Date.now()}`;
      const acc = await account(t, { city });
      const archived = await t.http.post(`/api/v1/accounts/${acc.id}/archive`).set('Authorization', t.auth);
      expect(archived.status).toBe(200);
      expect(archived.body.data.archivedAt).not.toBeNull();
      const hidden = await t.http.get(`/api/v1/accounts?filter[city][eq]=${city}`).set('Authorization', t.auth);
      expect(hidden.body.data).toHaveLength(0);
      const shown = await t.http.get(`/api/v1/accounts?filter[city][eq]=${city}&archived=include`).set('Authorization', t.auth);
      expect(shown.body.data.map((r: { id: string }) => r.id)).toEqual([acc.id]);
      const back = await t.http.post(`/api/v1/accounts/${acc.id}/unarchive`).set('Authorization', t.auth);
      expect(back.body.data.archivedAt).toBeNull();
      const listed = await t.http.get(`/api/v1/accounts?filter[city][eq]=${city}`).set('Authorization', t.auth);
      expect(listed.body.data).toHaveLength(1);
    });

    it('logs changes of tracked fields with old, new, who, when and source', async () => {
      const acc = await account(t);
      const opp = await createRecord(t, 'opportunities', { name: 'Big deal', account: acc.id, amount: 1000 });
      await t.http.patch(`/api/v1/opportunities/${opp.id}`).set('Authorization', t.auth).send({ stage: 'proposal', amount: 1500 });
      const res = await t.http.get(`/api/v1/opportunities/${opp.id}/history`).set('Authorization', t.auth);
      expect(res.status).toBe(200);
      const stage = res.body.data.filter((e: { field: string }) => e.field === 'stage');
      expect(stage[0]).toMatchObject({ oldValue: 'prospecting', newValue: 'proposal', source: 'api', actor: { name: expect.any(String) } });
      expect(stage[1]).toMatchObject({ oldValue: null, newValue: 'prospecting' });
      expect(new Date(stage[0].changedAt).getTime()).toBeGreaterThan(0);
      const amounts = res.body.data.filter((e: { field: string }) => e.field === 'amount').map((e: { newValue: number }) => e.newValue);
      expect(amounts).toEqual([1500, 1000]);
    });

    it('checks that relations point at an existing record of the right module', async () => {
      const acc = await account(t);
      const product = await createRecord(t, 'products', { name: 'Plank' });
      const wrong = await t.http.post('/api/v1/contacts').set('Authorization', t.auth).send({ last_name: 'X', account: product.id });
      expect(wrong.status).toBe(422);
      expect(wrong.body.errors).toEqual([expect.objectContaining({ field: 'account', code: 'wrong_related_module' })]);
      const missing = await t.http
        .post('/api/v1/invoices')
        .set('Authorization', t.auth)
        .send({ subject: 'S', account: acc.id, lines: [{ product: '00000000-0000-4000-8000-000000000000', quantity: 1, price: 10 }] });
      expect(missing.status).toBe(422);
      expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'lines[0].product', code: 'related_record_not_found' })]);
    });
  });

  describe('fails', () => {
    it('rejects unknown fields, naming them', async () => {
      const res = await t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'X', colour: 'red', size: 3 });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'colour', code: 'unknown_field', message: '"colour" is not a field of accounts' },
          { field: 'size', code: 'unknown_field', message: '"size" is not a field of accounts' },
        ]),
      );
    });

    it('rejects a missing required field, wrong types, a value outside the picklist and an over-long text together', async () => {
      const res = await t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .send({ type: 'enemy', employees: 'many', website: 'not a url', description: 'x'.repeat(20000) });
      expect(res.status).toBe(422);
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual(expect.arrayContaining(['name', 'type', 'employees', 'website', 'description']));
      expect(res.body.errors.find((e: { field: string }) => e.field === 'type').code).toBe('not_an_option');
    });

    it('rejects bad line rows with their position', async () => {
      const acc = await account(t);
      const res = await t.http
        .post('/api/v1/invoices')
        .set('Authorization', t.auth)
        .send({ subject: 'S', account: acc.id, lines: [{ quantity: 'two' }] });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ field: 'lines[0].quantity', code: 'wrong_type' });
    });

    it('returns 404 for an unknown module and an unknown record, 400 for a bad id', async () => {
      const unknownModule = await t.http.get('/api/v1/spaceships').set('Authorization', t.auth);
      expect(unknownModule.status).toBe(404);
      expect(unknownModule.body.detail).toContain('spaceships');
      const unknownRecord = await t.http.get('/api/v1/accounts/00000000-0000-4000-8000-000000000000').set('Authorization', t.auth);
      expect(unknownRecord.status).toBe(404);
      const badId = await t.http.get('/api/v1/accounts/123').set('Authorization', t.auth);
      expect(badId.status).toBe(400);
      expect(badId.body.type).toBe('/problems/invalid_id');
    });

    it('refuses to clear a required field', async () => {
      const created = await account(t);
      const res = await t.http.patch(`/api/v1/accounts/${created.id}`).set('Authorization', t.auth).send({ name: null });
      expect(res.status).toBe(422);
    });
  });
});
