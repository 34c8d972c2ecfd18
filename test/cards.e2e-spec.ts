import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

type Field = {
  name: string;
  label: string;
  value: unknown;
  displayValue: string | null;
  visible: boolean;
  required: boolean;
  readOnly: boolean;
  options?: string[];
  explain?: Record<string, unknown>;
};
const fieldOf = (card: { blocks: Array<{ fields: Field[] }> }, name: string): Field =>
  card.blocks.flatMap((b) => b.fields).find((f) => f.name === name)!;

describe('entity cards', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('succeeds', () => {
    it('renders the layout in Swedish with values, display values, states, related lists and the history link', async () => {
      const acc = await account(t, { name: 'Skogsbolaget AB', annual_revenue: 1234567.5 });
      await createRecord(t, 'contacts', { first_name: 'Anna', last_name: 'Berg', account: acc.id });
      const res = await t.http.get(`/api/v1/accounts/${acc.id}/card?lang=sv`).set('Authorization', t.auth);
      expect(res.status).toBe(200);
      const card = res.body.data;
      expect(card.module).toEqual({ name: 'accounts', label: 'Konto' });
      expect(card.record).toMatchObject({ id: acc.id, number: acc.number, version: 1 });
      expect(card.blocks[0]).toMatchObject({ id: 'account_information', label: 'Kontoinformation', columns: 2, collapsed: false });
      expect(fieldOf(card, 'name')).toMatchObject({
        label: 'Namn',
        value: 'Skogsbolaget AB',
        visible: true,
        required: true,
        readOnly: false,
      });
      expect(fieldOf(card, 'annual_revenue').displayValue).toBe('1\u00a0234\u00a0567,50');
      expect(fieldOf(card, 'type')).toMatchObject({ value: 'customer', options: ['customer', 'prospect', 'partner', 'supplier', 'other'] });
      expect(fieldOf(card, 'total_invoiced')).toMatchObject({ readOnly: true });
      const contacts = card.relatedLists.find((l: { id: string }) => l.id === 'contacts');
      expect(contacts).toMatchObject({ label: 'Kontakter', module: 'contacts' });
      expect(contacts.records).toEqual([expect.objectContaining({ first_name: 'Anna', last_name: 'Berg' })]);
      expect(card.links.history).toBe(`/api/v1/accounts/${acc.id}/history`);
    });

    it('shows a relation by the related record name', async () => {
      const acc = await account(t, { name: 'Fjällkraft AB' });
      const contact = await createRecord(t, 'contacts', { last_name: 'Lund', account: acc.id });
      const res = await t.http.get(`/api/v1/contacts/${contact.id}/card`).set('Authorization', t.auth);
      expect(fieldOf(res.body.data, 'account')).toMatchObject({ value: acc.id, displayValue: 'Fjällkraft AB' });
    });

    it('evaluates an unsaved draft with rules and formulas applied, and explains them', async () => {
      const res = await t.http
        .post('/api/v1/opportunities/card/evaluate?explain=true')
        .set('Authorization', t.auth)
        .send({ values: { name: 'Deal', stage: 'lost' } });
      expect(res.status).toBe(200);
      const card = res.body.data;
      expect(card.record).toBeNull();
      expect(fieldOf(card, 'lost_reason')).toMatchObject({
        visible: true,
        required: true,
        explain: expect.objectContaining({ shownBy: 'lost_needs_reason', requiredBy: 'lost_needs_reason' }),
      });
      expect(fieldOf(card, 'probability')).toMatchObject({
        value: 0,
        readOnly: true,
        explain: expect.objectContaining({ formula: expect.objectContaining({ reads: ['stage'] }) }),
      });
      expect(card.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'lost_reason', code: 'required' }),
          expect.objectContaining({ field: 'close_date', code: 'required' }),
        ]),
      );

      const open = await t.http
        .post('/api/v1/opportunities/card/evaluate?explain=true')
        .set('Authorization', t.auth)
        .send({ values: { name: 'Deal', stage: 'proposal' } });
      expect(fieldOf(open.body.data, 'lost_reason')).toMatchObject({
        visible: false,
        required: false,
        explain: expect.objectContaining({ hiddenBy: 'lost_needs_reason' }),
      });
      expect(fieldOf(open.body.data, 'probability').value).toBe(50);
      expect(open.body.data.errors).toEqual([]);
    });

    it('evaluates edits of a saved record against its stored values', async () => {
      const acc = await account(t);
      const invoice = await createRecord(t, 'invoices', { subject: 'S', account: acc.id, status: 'sent', due_date: '2026-12-31' });
      const res = await t.http
        .post('/api/v1/invoices/card/evaluate')
        .set('Authorization', t.auth)
        .send({ id: invoice.id, values: { due_date: null } });
      expect(res.body.data.record).toMatchObject({ id: invoice.id });
      expect(res.body.data.errors).toEqual([
        expect.objectContaining({ field: 'due_date', code: 'required', message: expect.stringContaining('due_date_when_sent') }),
      ]);
    });
  });

  describe('fails', () => {
    it('answers 400 for a bad language, a bad draft and a bad id; 404 for an unknown record', async () => {
      expect(
        (await t.http.get('/api/v1/accounts/00000000-0000-4000-8000-000000000000/card?lang=xx-yy-zz').set('Authorization', t.auth)).status,
      ).toBe(400);
      expect((await t.http.post('/api/v1/accounts/card/evaluate').set('Authorization', t.auth).send({ values: [] })).status).toBe(400);
      expect((await t.http.get('/api/v1/accounts/nope/card').set('Authorization', t.auth)).status).toBe(400);
      expect((await t.http.get('/api/v1/accounts/00000000-0000-4000-8000-000000000000/card').set('Authorization', t.auth)).status).toBe(
        404,
      );
    });
  });
});

describe('publishing layouts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('validates a layout against its module and applies a published one to the next card', async () => {
    const current = (await t.http.get('/api/v1/admin/metadata/layouts/products').set('Authorization', t.auth)).body.data.body;
    const bad = structuredClone(current);
    bad.blocks[0].fields.push('colour', bad.blocks[0].fields[0]);
    const rejected = await t.http.put('/api/v1/admin/metadata/layouts/products').set('Authorization', t.auth).send(bad);
    expect(rejected.status).toBe(422);
    const pointers = rejected.body.problems.map((p: { pointer: string }) => p.pointer);
    const n = current.blocks[0].fields.length;
    expect(pointers).toEqual(expect.arrayContaining([`/blocks/0/fields/${n}`, `/blocks/0/fields/${n + 1}`]));

    const moved = structuredClone(current);
    moved.blocks[0].label = { en: 'The product', sv: 'Produkten' };
    expect((await t.http.put('/api/v1/admin/metadata/layouts/products').set('Authorization', t.auth).send(moved)).status).toBe(200);
    const product = await createRecord(t, 'products', { name: 'Board' });
    const card = await t.http.get(`/api/v1/products/${product.id}/card?lang=sv`).set('Authorization', t.auth);
    expect(card.body.data.blocks[0].label).toBe('Produkten');
    const versions = await t.http.get('/api/v1/admin/metadata/layouts/products/versions').set('Authorization', t.auth);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('refuses a module change that would strand a layout field', async () => {
    const module = (await t.http.get('/api/v1/admin/metadata/modules/products').set('Authorization', t.auth)).body.data.body;
    delete module.fields.unit_price;
    const res = await t.http.put('/api/v1/admin/metadata/modules/products').set('Authorization', t.auth).send(module);
    expect(res.status).toBe(422);
    expect(res.body.problems).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'modules/products/layout.json' })]));
  });
});
