import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

describe('dynamic-field rules and formulas on every write', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  const get = async (module: string, id: string) => (await t.http.get(`/api/v1/${module}/${id}`).set('Authorization', t.auth)).body.data;

  describe('rules', () => {
    it('rejects a required visible field missing, naming the field and the rule', async () => {
      const res = await t.http
        .post('/api/v1/opportunities')
        .set('Authorization', t.auth)
        .send({ name: 'Gone', stage: 'lost', close_date: '2026-11-01' });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { field: 'lost_reason', code: 'required', message: '"lost_reason" is required (rule lost_needs_reason)' },
      ]);
      const ok = await t.http
        .post('/api/v1/opportunities')
        .set('Authorization', t.auth)
        .send({ name: 'Gone', stage: 'lost', close_date: '2026-11-01', lost_reason: 'Price' });
      expect(ok.status).toBe(201);
    });

    it('does not require a hidden field, and clears it when its rule says onHide: clear', async () => {
      const created = await createRecord(t, 'opportunities', {
        name: 'Back',
        stage: 'lost',
        close_date: '2026-11-01',
        lost_reason: 'Timing',
      });
      const reopened = await t.http
        .patch(`/api/v1/opportunities/${created.id}`)
        .set('Authorization', t.auth)
        .send({ stage: 'negotiation' });
      expect(reopened.status).toBe(200);
      expect(reopened.body.data.lost_reason).toBeUndefined();
      expect(reopened.body.data.probability).toBe(75);
    });

    it('requires the due date of a sent invoice on update too', async () => {
      const acc = await account(t);
      const draft = await createRecord(t, 'invoices', { subject: 'Draft', account: acc.id });
      const res = await t.http.patch(`/api/v1/invoices/${draft.id}`).set('Authorization', t.auth).send({ status: 'sent' });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ field: 'due_date', code: 'required', message: expect.stringContaining('due_date_when_sent') }),
      ]);
    });

    it('refuses changes to read-only fields of a paid invoice, but allows other edits', async () => {
      const acc = await account(t);
      const invoice = await createRecord(t, 'invoices', {
        subject: 'Paid',
        account: acc.id,
        status: 'paid',
        due_date: '2026-12-01',
        lines: [{ description: 'Work', quantity: 1, price: 100 }],
      });
      const res = await t.http
        .patch(`/api/v1/invoices/${invoice.id}`)
        .set('Authorization', t.auth)
        .send({ lines: [{ description: 'More work', quantity: 2, price: 100 }] });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { field: 'lines', code: 'read_only', message: '"lines" is read-only (rule lines_locked_when_paid) and cannot be changed' },
      ]);
      expect((await t.http.patch(`/api/v1/invoices/${invoice.id}`).set('Authorization', t.auth).send({ notes: 'Thanks' })).status).toBe(
        200,
      );
    });

    it('restricts picklist options while a published rule holds', async () => {
      const current = (await t.http.get('/api/v1/admin/metadata/rules/opportunities').set('Authorization', t.auth)).body.data.body;
      const rules = [
        ...current.rules,
        { id: 'no_skipping', when: { field: 'amount', op: 'gt', value: 1000000 }, options: { stage: ['prospecting', 'qualification'] } },
      ];
      const put = await t.http.put('/api/v1/admin/metadata/rules/opportunities').set('Authorization', t.auth).send(rules);
      expect(put.status).toBe(200);
      const res = await t.http
        .post('/api/v1/opportunities')
        .set('Authorization', t.auth)
        .send({ name: 'Huge', amount: 5000000, stage: 'proposal' });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ field: 'stage', code: 'option_not_allowed', message: expect.stringContaining('no_skipping') }),
      ]);
      expect(
        (
          await t.http
            .post('/api/v1/opportunities')
            .set('Authorization', t.auth)
            .send({ name: 'Huge', amount: 5000000, stage: 'qualification' })
        ).status,
      ).toBe(201);
      await t.http.put('/api/v1/admin/metadata/rules/opportunities').set('Authorization', t.auth).send(current);
    });

    it('rejects invalid rules at publish with pointers', async () => {
      const res = await t.http
        .put('/api/v1/admin/metadata/rules/opportunities')
        .set('Authorization', t.auth)
        .send([{ id: 'bad', when: { field: 'stag', op: 'eq', value: 'won' }, require: ['nothing'], options: { stage: ['maybe'] } }]);
      expect(res.status).toBe(422);
      const pointers = res.body.problems.map((p: { pointer: string }) => p.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/0/when/field', '/0/require/0', '/0/options/stage/0']));
    });
  });

  describe('formulas', () => {
    it('computes line totals, VAT and the grand total on save, in dependency order', async () => {
      const acc = await account(t);
      const invoice = await createRecord(t, 'invoices', {
        subject: 'Timber',
        account: acc.id,
        lines: [
          { description: 'Planks', quantity: 10, price: 25, discount: 10, vat_rate: 25 },
          { description: 'Delivery', quantity: 1, price: 100, vat_rate: 12 },
        ],
      });
      expect(invoice.lines.map((l: { total: number }) => l.total)).toEqual([225, 100]);
      expect(invoice).toMatchObject({ subtotal: 325, tax: 68.25, total: 393.25 });
      const changed = await t.http
        .patch(`/api/v1/invoices/${invoice.id}`)
        .set('Authorization', t.auth)
        .send({ lines: [{ description: 'Planks', quantity: 4, price: 25 }] });
      expect(changed.body.data).toMatchObject({ subtotal: 100, tax: 25, total: 125 });
    });

    it('rejects writes to computed fields', async () => {
      const acc = await account(t);
      const res = await t.http
        .post('/api/v1/invoices')
        .set('Authorization', t.auth)
        .send({ subject: 'S', account: acc.id, total: 1, lines: [{ quantity: 1, price: 1, total: 5 }] });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'total', code: 'unknown_field', message: expect.stringContaining('computed') }),
          expect.objectContaining({ field: 'lines[0].total', code: 'unknown_field' }),
        ]),
      );
    });

    it('fills default formulas on create: a contact takes its address from the account', async () => {
      const acc = await account(t, { street: 'Storgatan 1', city: 'Umeå', postal_code: '903 26' });
      const contact = await createRecord(t, 'contacts', { last_name: 'Ek', account: acc.id });
      expect(contact).toMatchObject({ street: 'Storgatan 1', city: 'Umeå', postal_code: '903 26', account_name: acc.name });
      const own = await createRecord(t, 'contacts', { last_name: 'Al', account: acc.id, city: 'Luleå' });
      expect(own.city).toBe('Luleå');
    });

    it('keeps cross-record formulas fresh after commit: rollups and fetched names', async () => {
      const acc = await account(t, { name: 'Rollup AB' });
      const contact = await createRecord(t, 'contacts', { last_name: 'Ås', account: acc.id });
      const first = await createRecord(t, 'invoices', {
        subject: 'A',
        account: acc.id,
        lines: [{ quantity: 1, price: 100, vat_rate: 25 }],
      });
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 125,
      );
      await createRecord(t, 'invoices', { subject: 'B', account: acc.id, lines: [{ quantity: 2, price: 100, vat_rate: 25 }] });
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 375,
      );
      await t.http
        .patch(`/api/v1/invoices/${first.id}`)
        .set('Authorization', t.auth)
        .send({ lines: [{ quantity: 3, price: 100, vat_rate: 25 }] });
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 625,
      );
      await t.http.post(`/api/v1/invoices/${first.id}/archive`).set('Authorization', t.auth);
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 250,
      );

      await t.http.patch(`/api/v1/accounts/${acc.id}`).set('Authorization', t.auth).send({ name: 'Rollup Group AB' });
      await eventually(
        () => get('contacts', contact.id),
        (c) => c.account_name === 'Rollup Group AB',
      );
      const history = await t.http.get(`/api/v1/accounts/${acc.id}/history`).set('Authorization', t.auth);
      expect(history.status).toBe(200);
    });

    it('moves a rollup when a child changes parent, and counts subsidiaries', async () => {
      const parent = await account(t, { name: 'Parent' });
      const other = await account(t, { name: 'Other parent' });
      const child = await account(t, { name: 'Child', parent_account: parent.id });
      expect(child.parent_name).toBe('Parent');
      await eventually(
        () => get('accounts', parent.id),
        (a) => a.subsidiaries === 1,
      );
      await t.http.patch(`/api/v1/accounts/${child.id}`).set('Authorization', t.auth).send({ parent_account: other.id });
      await eventually(
        () => get('accounts', other.id),
        (a) => a.subsidiaries === 1,
      );
      await eventually(
        () => get('accounts', parent.id),
        (a) => a.subsidiaries === undefined || a.subsidiaries === 0,
      );
    });
  });
});
