import PizZip from 'pizzip';
import type { RequestContext } from '../src/common/request-context';
import { JOB_QUEUE, type JobQueue } from '../src/queue/job-queue';
import { RecordService } from '../src/records/record.service';
import { ToolService } from '../src/tools/tool.service';
import { describeWithChromium } from './support/chromium';
import { binary, pdfText, squash } from './support/documents';
import { account, createRecord } from './support/factories';
import { leaves, parseMime, partOf, startSmtpServer, type MimePart, type TestSmtpServer } from './support/smtp';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const money = (value: number) => squash(new Intl.NumberFormat('en', { style: 'currency', currency: 'SEK' }).format(value));
const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const docxText = (docx: Buffer) =>
  squash(
    new PizZip(docx)
      .file('word/document.xml')!
      .asText()
      .replace(/<[^>]+>/g, ' '),
  );

/** A sendEmail tool like the shipped one, but attaching the DOCX (no Chromium needed) and sending to `$params.to`. */
const SEND_DOCX = {
  name: 'send_invoice_docx',
  module: 'invoices',
  label: { en: 'Send invoice (Word)' },
  parameters: { to: { type: 'email', required: true }, message: { type: 'textarea', maxLength: 2000 } },
  action: {
    type: 'sendEmail',
    template: 'invoice',
    lang: 'sv',
    to: { expression: '$params.to' },
    cc: { addresses: ['archive@example.com'] },
    attachments: [{ document: 'invoice', format: 'docx' }],
  },
};

/** A workflow that only runs when asked (disabled, and its condition false on a sent invoice), and the tool that asks. */
const REVIEW_WORKFLOW = {
  name: 'review_invoice',
  module: 'invoices',
  enabled: false,
  trigger: 'update',
  condition: { field: 'status', op: 'eq', value: 'paid' },
  actions: [{ type: 'updateFields', values: { notes: "'Reviewed: ' & number" } }],
};
const REVIEW_TOOL = {
  name: 'request_review',
  module: 'invoices',
  label: { en: 'Request review' },
  action: { type: 'runWorkflow', workflow: 'review_invoice' },
};

describe('module tools', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ smtpUrl: smtp.url, mailFrom: 'Billing <billing@example.com>' });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  const auth = () => t.auth;
  const card = async (id: string) => (await t.http.get(`/api/v1/invoices/${id}/card?lang=sv`).set('Authorization', auth())).body.data;
  const toolNames = async (id: string) => (await card(id)).tools.map((tool: { name: string }) => tool.name);
  const runTool = (id: string, tool: string, params?: Record<string, unknown>) =>
    t.http
      .post(`/api/v1/invoices/${id}/tools/${tool}`)
      .set('Authorization', auth())
      .send(params ? { params } : {});
  const runToolBinary = (id: string, tool: string) =>
    t.http.post(`/api/v1/invoices/${id}/tools/${tool}`).set('Authorization', auth()).send({}).buffer(true).parse(binary);
  const publish = (kind: 'tools' | 'workflows', body: { name: string }) =>
    t.http.put(`/api/v1/admin/metadata/${kind}/${body.name}`).set('Authorization', auth()).send(body);
  const publishReview = async () => {
    expect((await publish('workflows', REVIEW_WORKFLOW)).status).toBeLessThan(300);
    expect((await publish('tools', REVIEW_TOOL)).status).toBeLessThan(300);
  };
  const mailOf = (recordId: string) =>
    t.db.query<{ id: string; status: string }>(`SELECT id::text AS id, status FROM mail_messages WHERE record_id = $1::uuid`, [recordId]);
  const runsOf = async (id: string) => (await t.http.get(`/api/v1/invoices/${id}/workflow-runs`).set('Authorization', auth())).body.data;
  const receivedFor = (messageId: string) => smtp.received.filter((m) => m.raw.includes(`<${messageId}@`));
  const delivered = async (messageId: string): Promise<{ rcpt: string[]; mail: MimePart }> => {
    const [message] = await eventually(
      async () => receivedFor(messageId),
      (found) => found.length > 0,
      20000,
    );
    return { rcpt: message.rcpt.sort(), mail: parseMime(message.raw) };
  };
  const attachmentOf = (mail: MimePart) => leaves(mail).find((p) => (p.headers['content-disposition'] ?? '').startsWith('attachment'));

  const sentInvoice = async (contactEmail: string | null = 'eva.ek@example.com', accountEmail?: string) => {
    const acc = await account(t, accountEmail ? { email: accountEmail } : {});
    const contact = await createRecord(t, 'contacts', {
      first_name: 'Eva',
      last_name: 'Ek',
      account: acc.id,
      ...(contactEmail ? { email: contactEmail } : {}),
    });
    const product = await createRecord(t, 'products', { name: 'Plank', unit_price: 25 });
    return createRecord(t, 'invoices', {
      subject: 'Timber',
      account: acc.id,
      contact: contact.id,
      status: 'sent',
      due_date: '2026-12-31',
      lines: [
        { product: product.id, description: 'Planks', quantity: 10, price: 25, vat_rate: 25 },
        { description: 'Delivery', quantity: 1, price: 100, discount: 10, vat_rate: 25 },
      ],
    });
  };

  describe('succeeds', () => {
    it('the card offers print, send and credit on a sent invoice, in the layout order, and only print on a draft', async () => {
      const invoice = await sentInvoice();
      const view = await card(invoice.id);
      expect(view.tools).toEqual([
        { name: 'print_invoice', label: 'Skriv ut faktura', href: `/api/v1/invoices/${invoice.id}/tools/print_invoice`, parameters: [] },
        expect.objectContaining({
          name: 'send_invoice',
          label: 'Skicka faktura med e-post',
          confirm: 'Skicka fakturan med PDF med e-post?',
          href: `/api/v1/invoices/${invoice.id}/tools/send_invoice`,
          parameters: [
            { name: 'to', label: 'Till', type: 'email', required: false },
            { name: 'message', label: 'Meddelande', type: 'textarea', required: false },
          ],
        }),
        expect.objectContaining({
          name: 'credit_invoice',
          label: 'Skapa kreditfaktura',
          confirm: expect.stringContaining('kreditfaktura'),
          href: `/api/v1/invoices/${invoice.id}/tools/credit_invoice`,
          parameters: [{ name: 'reason', label: 'Anledning', type: 'text', required: false }],
        }),
      ]);
      const draft = await createRecord(t, 'invoices', { subject: 'Draft', account: invoice.account });
      expect(await toolNames(draft.id)).toEqual(['print_invoice']);
    });

    it('creates the credit invoice with negated lines, links it and marks the original credited, in one transaction', async () => {
      const invoice = await sentInvoice();
      const res = await runTool(invoice.id, 'credit_invoice', { reason: 'Damaged goods' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ tool: 'credit_invoice', mail: [], runs: [] });
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

      // Crediting is offered no more, on either: the original is credited, the new one is itself a credit.
      expect(await toolNames(invoice.id)).toEqual(['print_invoice', 'send_invoice']);
      const again = await runTool(invoice.id, 'credit_invoice');
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/tool_not_available');
      await t.http.patch(`/api/v1/invoices/${credit.id}`).set('Authorization', auth()).send({ status: 'sent', due_date: '2026-12-31' });
      expect(await toolNames(credit.id)).toEqual(['print_invoice', 'send_invoice']);
    });

    describeWithChromium('with Chromium', () => {
      it('send_invoice emails the invoice with its PDF to the contact, through a real SMTP server', async () => {
        const invoice = await sentInvoice();
        const res = await runTool(invoice.id, 'send_invoice', { message: 'Thank you for your order!' });
        expect(res.status).toBe(200);
        const pdfName = `invoice-${invoice.number}.pdf`;
        expect(res.body.data).toEqual({
          tool: 'send_invoice',
          created: [],
          updated: [],
          mail: [{ id: expect.any(String), status: 'queued', to: ['eva.ek@example.com'], cc: [], attachments: [pdfName] }],
          runs: [],
        });
        const { rcpt, mail } = await delivered(res.body.data.mail[0].id);
        expect(rcpt).toEqual(['eva.ek@example.com']);
        expect(mail.headers.subject).toBe(`Invoice ${invoice.number}: Timber`);
        expect(mail.headers.from).toBe('Billing <billing@example.com>');
        const html = partOf(mail, 'text/html')!.content.toString('utf8');
        expect(html).toContain('Hello Eva Ek,');
        expect(html).toContain('Thank you for your order!');
        expect(squash(html)).toContain(money(invoice.total));
        const attachment = attachmentOf(mail)!;
        expect(attachment.headers['content-type']).toMatch(/^application\/pdf/);
        expect(attachment.headers['content-disposition']).toContain(pdfName);
        expect(attachment.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const text = await pdfText(attachment.content);
        expect(text).toContain(`Invoice number ${invoice.number}`);
        expect(text).toContain('Nordic Timber AB');
        const [stored] = await eventually(
          () => mailOf(invoice.id),
          (rows) => rows.length === 1 && rows[0].status === 'sent',
        );
        expect(stored.id).toBe(res.body.data.mail[0].id);
      });

      it('send_invoice falls back to the account email without a contact email, and params.to wins over both', async () => {
        const invoice = await sentInvoice(null, 'billing@nordictimber.example');
        const fallback = await runTool(invoice.id, 'send_invoice');
        expect(fallback.status).toBe(200);
        expect(fallback.body.data.mail[0].to).toEqual(['billing@nordictimber.example']);
        const chosen = await runTool(invoice.id, 'send_invoice', { to: 'cfo@nordictimber.example' });
        expect(chosen.body.data.mail[0].to).toEqual(['cfo@nordictimber.example']);
        expect((await delivered(chosen.body.data.mail[0].id)).rcpt).toEqual(['cfo@nordictimber.example']);
      });

      it('print_invoice answers with the PDF itself, shown inline', async () => {
        const invoice = await sentInvoice();
        const res = await runToolBinary(invoice.id, 'print_invoice');
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/pdf');
        expect(res.headers['content-disposition']).toBe(`inline; filename="invoice-${invoice.number}.pdf"`);
        expect(await pdfText(res.body as Buffer)).toContain(`Invoice number ${invoice.number}`);
      });
    });

    it('sendEmail attaches a DOCX, sends to a parameter address with a fixed cc, in the tool language', async () => {
      expect((await publish('tools', SEND_DOCX)).status).toBe(201);
      const invoice = await sentInvoice();
      const res = await runTool(invoice.id, 'send_invoice_docx', { to: 'eva@example.com', message: 'Fakturan bifogas.' });
      expect(res.status).toBe(200);
      const [queued] = res.body.data.mail;
      expect(queued).toMatchObject({
        to: ['eva@example.com'],
        cc: ['archive@example.com'],
        attachments: [`invoice-${invoice.number}.docx`],
      });
      const { rcpt, mail } = await delivered(queued.id);
      expect(rcpt).toEqual(['archive@example.com', 'eva@example.com']);
      expect(mail.headers.subject).toBe(`Faktura ${invoice.number}: Timber`);
      expect(partOf(mail, 'text/html')!.content.toString('utf8')).toContain('Fakturan bifogas.');
      const attachment = attachmentOf(mail)!;
      expect(attachment.headers['content-type']).toMatch(new RegExp(`^${DOCX_TYPE}`));
      expect(docxText(attachment.content)).toContain(`Invoice ${invoice.number}`);
    });

    it('generateDocument answers with the document: a DOCX download', async () => {
      const tool = {
        name: 'download_invoice',
        module: 'invoices',
        label: { en: 'Download as Word' },
        action: { type: 'generateDocument', template: 'invoice', format: 'docx' },
      };
      expect((await publish('tools', tool)).status).toBe(201);
      const invoice = await sentInvoice();
      const res = await runToolBinary(invoice.id, 'download_invoice');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(DOCX_TYPE);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="invoice-${invoice.number}.docx"`);
      expect(docxText(res.body as Buffer)).toContain(`Invoice ${invoice.number}`);
    });

    it('runWorkflow starts a run of a disabled workflow of the module on the record, which completes', async () => {
      await publishReview();
      const invoice = await sentInvoice();
      const res = await runTool(invoice.id, 'request_review');
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        tool: 'request_review',
        created: [],
        updated: [],
        mail: [],
        runs: [{ id: expect.any(String), workflow: 'review_invoice', status: 'queued' }],
      });
      const runs = await eventually(
        () => runsOf(invoice.id),
        (list) => list.some((r: { status: string }) => r.status === 'completed'),
      );
      expect(runs).toEqual([
        expect.objectContaining({ id: res.body.data.runs[0].id, workflow: 'review_invoice', trigger: 'manual', status: 'completed' }),
      ]);
      const stored = await t.http.get(`/api/v1/invoices/${invoice.id}`).set('Authorization', auth());
      expect(stored.body.data.notes).toBe(`Reviewed: ${invoice.number}`);
      // Each press is a run of its own.
      const second = await runTool(invoice.id, 'request_review');
      expect(second.body.data.runs[0].id).not.toBe(res.body.data.runs[0].id);
      await eventually(
        () => runsOf(invoice.id),
        (list) => list.length === 2 && list.every((r: { status: string }) => r.status === 'completed'),
      );
    });

    it("a workflow's runTool step sends the tool's email once its step has committed", async () => {
      expect((await publish('tools', SEND_DOCX)).status).toBeLessThan(300);
      const workflow = {
        name: 'send_on_request',
        module: 'invoices',
        trigger: 'update',
        watch: { field: 'notes', op: 'changedTo', value: 'send please' },
        actions: [{ type: 'runTool', tool: 'send_invoice_docx', params: { to: "'workflow@example.com'" } }],
      };
      expect((await publish('workflows', workflow)).status).toBe(201);
      const invoice = await sentInvoice();
      await t.http.patch(`/api/v1/invoices/${invoice.id}`).set('Authorization', auth()).send({ notes: 'send please' });
      const [row] = await eventually(
        () => mailOf(invoice.id),
        (rows) => rows.length === 1 && rows[0].status === 'sent',
        20000,
      );
      expect((await delivered(row.id)).rcpt).toEqual(['archive@example.com', 'workflow@example.com']);
      const [run] = await eventually(
        () => runsOf(invoice.id),
        (list) => list.length === 1 && list[0].status === 'completed',
      );
      expect(run.workflow).toBe('send_on_request');
    });
  });

  describe('fails', () => {
    it('rejects bad parameters, an unknown tool and a draft invoice, changing nothing', async () => {
      const invoice = await sentInvoice();
      const bad = await runTool(invoice.id, 'credit_invoice', { reason: 'x'.repeat(300), colour: 'red' });
      expect(bad.status).toBe(422);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['params.colour', 'params.reason']);
      expect((await runTool(invoice.id, 'teleport')).status).toBe(404);
      const acc = await account(t);
      const draft = await createRecord(t, 'invoices', { subject: 'Draft', account: acc.id });
      expect((await runTool(draft.id, 'credit_invoice')).status).toBe(409);
      expect((await runTool(draft.id, 'send_invoice')).status).toBe(409);
      const unchanged = await t.http.get(`/api/v1/invoices/${invoice.id}`).set('Authorization', auth());
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
      const res = await runTool(invoice.id, 'credit_invoice');
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ field: 'lines[0].product', code: 'related_record_not_found' });
      const [{ n: after }] = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM records WHERE module = 'invoices'`);
      expect(after).toBe(before);
      expect((await t.http.get(`/api/v1/invoices/${invoice.id}`).set('Authorization', auth())).body.data.status).toBe('sent');
    });

    it('send_invoice: an address that is not one is a 422 on params.to; no address at all is a 422 too; nothing is queued', async () => {
      const invoice = await sentInvoice(null);
      const bad = await runTool(invoice.id, 'send_invoice', { to: 'not-an-address', message: 'x'.repeat(2001) });
      expect(bad.status).toBe(422);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['params.message', 'params.to']);
      // Neither the contact nor the account has an email, and none was entered.
      const none = await runTool(invoice.id, 'send_invoice');
      expect(none.status).toBe(422);
      expect(none.body).toMatchObject({
        type: '/problems/no_recipient',
        detail: 'The message of the tool "send_invoice" has no recipient; enter an email address.',
        errors: [{ field: 'params.to', code: 'required', message: expect.stringContaining('no recipient') }],
      });
      expect(await mailOf(invoice.id)).toEqual([]);
    });

    it('refuses at publish a tool naming an unknown email or document template, or a format its template lacks', async () => {
      const base = { module: 'invoices', label: { en: 'Broken' } };
      const refused = async (tool: { name: string; action: object }) => {
        const res = await publish('tools', tool);
        expect(res.status).toBe(422);
        return res.body.problems.map((p: { pointer: string; message: string }) => [p.pointer, p.message]);
      };
      expect(
        await refused({
          ...base,
          name: 'mail_unknown',
          action: { type: 'sendEmail', template: 'no-such-mail', to: { addresses: ['a@example.com'] } },
        }),
      ).toEqual([['/action/template', expect.stringMatching(/^there is no email template "no-such-mail" \(known: .*invoice/)]]);
      expect(
        await refused({
          ...base,
          name: 'attach_unknown',
          action: {
            type: 'sendEmail',
            template: 'invoice',
            to: { addresses: ['a@example.com'] },
            attachments: [
              { document: 'invoice', format: 'docx' },
              { document: 'quote', format: 'pdf' },
              { document: 'certificate', format: 'docx' },
            ],
          },
        }),
      ).toEqual([
        ['/action/attachments/1/document', expect.stringContaining('there is no document template "quote" for invoices')],
        ['/action/attachments/2/document', expect.stringContaining('there is no document template "certificate" for invoices')],
      ]);
      expect(
        await refused({
          ...base,
          name: 'print_missing',
          action: { type: 'generateDocument', template: 'no-such-document', format: 'html' },
        }),
      ).toEqual([['/action/template', expect.stringContaining('there is no document template "no-such-document" for invoices')]]);
      // The shipped invoice template has an XLSX tag template: that one publishes and renders.
      const xlsxTool = {
        ...base,
        name: 'print_xlsx',
        action: { type: 'generateDocument', template: 'invoice', format: 'xlsx', lang: 'sv' },
      };
      expect((await publish('tools', xlsxTool)).status).toBe(201);
      const invoice = await sentInvoice();
      const xlsx = await runToolBinary(invoice.id, 'print_xlsx');
      expect(xlsx.status).toBe(200);
      expect(xlsx.headers['content-disposition']).toBe(`attachment; filename="invoice-${invoice.number}.xlsx"`);
    });

    it('a rolled-back transaction around a tool queues no mail, starts no run and sends nothing', async () => {
      expect((await publish('tools', SEND_DOCX)).status).toBeLessThan(300);
      await publishReview();
      const invoice = await sentInvoice();
      const ctx: RequestContext = { actorId: 'test', actorName: 'test', permissions: new Set(['admin']), source: 'api' };
      const records = t.app.get(RecordService);
      const tools = t.app.get(ToolService);
      let queued: { mail: string; run: string } | undefined;
      await expect(
        records.write(ctx, async (writer) => {
          const sent = await tools.runIn(writer, 'invoices', invoice.id, 'send_invoice_docx', { params: { to: 'rollback@example.com' } });
          const started = await tools.runIn(writer, 'invoices', invoice.id, 'request_review', {});
          queued = { mail: sent.mail[0].id, run: started.runs[0].id };
          // Seen inside the transaction …
          expect(await writer.tx.query('SELECT 1 FROM mail_messages WHERE id = $1::uuid', [queued.mail])).toHaveLength(1);
          throw new Error('a later step failed');
        }),
      ).rejects.toThrow('a later step failed');
      expect(queued).toBeDefined();
      // … and gone with it: no message, no run, no outbox event to hand them on.
      await t.app.get<JobQueue>(JOB_QUEUE).idle();
      expect(await mailOf(invoice.id)).toEqual([]);
      expect(await t.db.query('SELECT 1 FROM workflow_runs WHERE id = $1::uuid', [queued!.run])).toEqual([]);
      expect(await t.db.query(`SELECT 1 FROM outbox WHERE topic = 'tool.effects'`)).toEqual([]);
      expect(smtp.received.filter((m) => m.rcpt.includes('rollback@example.com'))).toEqual([]);
    });

    it('a workflow cannot run a generateDocument tool: it has nobody to hand the document to', async () => {
      const invoice = await sentInvoice();
      const ctx: RequestContext = { actorId: 'test', actorName: 'test', permissions: new Set(['admin']), source: 'workflow' };
      await expect(
        t.app.get(RecordService).write(ctx, (writer) => t.app.get(ToolService).runIn(writer, 'invoices', invoice.id, 'print_invoice', {})),
      ).rejects.toMatchObject({
        code: 'tool_not_runnable',
        detail: 'The tool "print_invoice" cannot run here: it answers with a document, which a workflow has nobody to hand to.',
      });
    });

    it('refuses bad tools at publish, with pointers', async () => {
      const tool = (name: string, action: object) => ({ name, module: 'invoices', label: { en: 'Bad' }, action });
      const problems = async (body: { name: string }) => {
        const res = await publish('tools', body);
        expect(res.status).toBe(422);
        return res.body.problems.map((p: { pointer: string; message: string }) => [p.pointer, p.message]);
      };
      expect(await problems(tool('bad_fields', { type: 'sendEmail', template: 'invoice', to: { fields: ['subject', 'nope'] } }))).toEqual([
        ['/action/to/fields/0', '"subject" is not an email field of invoices'],
        ['/action/to/fields/1', '"nope" is not an email field of invoices'],
      ]);
      expect(
        await problems(tool('bad_expression', { type: 'sendEmail', template: 'invoice', to: { expression: '$params.to (' } })),
      ).toEqual([['/action/to/expression', expect.any(String)]]);
      expect(await problems(tool('bad_workflow', { type: 'runWorkflow', workflow: 'nope' }))).toEqual([
        ['/action/workflow', 'there is no workflow "nope"'],
      ]);
      expect(await problems(tool('foreign_workflow', { type: 'runWorkflow', workflow: 'opportunity_won' }))).toEqual([
        [
          '/action/workflow',
          'the workflow "opportunity_won" belongs to opportunities; a tool of invoices can only run workflows of invoices',
        ],
      ]);
      const format = await problems(tool('bad_format', { type: 'generateDocument', template: 'invoice', format: 'odt' }));
      expect(format).toContainEqual(['/action/format', 'must be one of "html", "pdf", "docx", "xlsx"']);
      const shape = await problems(
        tool('bad_shape', { type: 'sendEmail', template: 'Invoice!', to: {}, attachments: [{ document: 'invoice' }] }),
      );
      expect(shape.map(([pointer]: [string]) => pointer).sort()).toEqual(['/action/attachments/0', '/action/template', '/action/to']);
    });
  });
});
