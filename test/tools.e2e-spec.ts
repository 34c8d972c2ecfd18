import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

describe('module tools', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  const card = async (id: string) => (await t.http.get(`/api/v1/invoices/${id}/card?lang=sv`).set('Authorization', t.auth)).body.data;
  const sentInvoice = async () => {
    const acc = await account(t);
    const product = await createRecord(t, 'products', { name: 'Plank', unit_price: 25 });
    return createRecord(t, 'invoices', {
      subject: 'Timber',
      account: acc.id,
      status: 'sent',
      due_date: '2026-12-31',
      lines: [
        { product: product.id, description: 'Planks', quantity: 10, price: 25, vat_rate: 25 },
        { description: 'Delivery', quantity: 1, price: 100, discount: 10, vat_rate: 25 },
      ],
    });
  };

  describe('succeeds', () => {
    it('the card offers the credit invoice tool on a sent invoice', async () => {
      const invoice = await sentInvoice();
      const view = await card(invoice.id);
      expect(view.tools).toEqual([
        expect.objectContaining({
          name: 'credit_invoice',
          label: 'Skapa kreditfaktura',
          confirm: expect.stringContaining('kreditfaktura'),
          href: `/api/v1/invoices/${invoice.id}/tools/credit_invoice`,
          parameters: [{ name: 'reason', label: 'Anledning', type: 'text', required: false }],
        }),
      ]);
    });

    it('creates the credit invoice with negated lines, links it and marks the original credited, in one transaction', async () => {
      const invoice = await sentInvoice();
      const res = await t.http
        .post(`/api/v1/invoices/${invoice.id}/tools/credit_invoice`)
        .set('Authorization', t.auth)
        .send({ params: { reason: 'Damaged goods' } });
      expect(res.status).toBe(200);
      const [credit] = res.body.data.created;
      expect(credit).toMatchObject({
        subject: 'Credit: Timber',
        status: 'draft',
        credited_invoice: invoice.id,
        account: invoice.account,
        notes: 'Damaged goods',
      });
      expect(credit.number).toMatch(/^INV-\d{5}$/);
      expect(credit.number).not.toBe(invoice.number);
      expect(credit.lines.map((l: { price: number; quantity: number }) => [l.quantity, l.price])).toEqual([
        [10, -25],
        [1, -100],
      ]);
      expect(credit.total).toBe(-invoice.total);
      expect(res.body.data.updated).toEqual([expect.objectContaining({ id: invoice.id, status: 'credited' })]);

      // Hidden now on both: the original is credited, the new one is itself a credit.
      expect((await card(invoice.id)).tools).toEqual([]);
      const again = await t.http.post(`/api/v1/invoices/${invoice.id}/tools/credit_invoice`).set('Authorization', t.auth).send({});
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/tool_not_available');
      await t.http.patch(`/api/v1/invoices/${credit.id}`).set('Authorization', t.auth).send({ status: 'sent', due_date: '2026-12-31' });
      expect((await card(credit.id)).tools).toEqual([]);
    });
  });

  describe('fails', () => {
    it('rejects bad parameters, an unknown tool and a draft invoice, changing nothing', async () => {
      const invoice = await sentInvoice();
      const bad = await t.http
        .post(`/api/v1/invoices/${invoice.id}/tools/credit_invoice`)
        .set('Authorization', t.auth)
        .send({ params: { reason: 'x'.repeat(300), colour: 'red' } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['params.colour', 'params.reason']);
      expect((await t.http.post(`/api/v1/invoices/${invoice.id}/tools/teleport`).set('Authorization', t.auth).send({})).status).toBe(404);
      const acc = await account(t);
      const draft = await createRecord(t, 'invoices', { subject: 'Draft', account: acc.id });
      expect((await t.http.post(`/api/v1/invoices/${draft.id}/tools/credit_invoice`).set('Authorization', t.auth).send({})).status).toBe(
        409,
      );
      const unchanged = await t.http.get(`/api/v1/invoices/${invoice.id}`).set('Authorization', t.auth);
      expect(unchanged.body.data.status).toBe('sent');
    });

    it('rolls everything back when a write of the tool is rejected', async () => {
      const acc = await account(t);
      // A stored line points at a product that no longer exists: the credit's copy of it is refused,
      // and the original's status change in the same transaction must not survive.
      const product = await createRecord(t, 'products', { name: 'Gone' });
      const invoice = await createRecord(t, 'invoices', {
        subject: 'S',
        account: acc.id,
        status: 'sent',
        due_date: '2026-12-31',
        lines: [{ product: product.id, quantity: 1, price: 5 }],
      });
      await t.db.query(
        `UPDATE records SET data = jsonb_set(data, '{lines,0,product}', '"00000000-0000-4000-8000-000000000000"') WHERE id = $1`,
        [invoice.id],
      );
      const [{ n: before }] = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM records WHERE module = 'invoices'`);
      const res = await t.http.post(`/api/v1/invoices/${invoice.id}/tools/credit_invoice`).set('Authorization', t.auth).send({});
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ field: 'lines[0].product', code: 'related_record_not_found' });
      const [{ n: after }] = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM records WHERE module = 'invoices'`);
      expect(after).toBe(before);
      expect((await t.http.get(`/api/v1/invoices/${invoice.id}`).set('Authorization', t.auth)).body.data.status).toBe('sent');
    });
  });
});
