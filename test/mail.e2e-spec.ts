import { MailService, MAX_MAIL_ATTEMPTS } from '../src/mail/mail.service';
import { JOB_QUEUE, type JobQueue } from '../src/queue/job-queue';
import { leaves, parseMime, partOf, PERM_FAIL_DOMAIN, startSmtpServer, TEMP_FAIL_DOMAIN, type TestSmtpServer } from './support/smtp';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const NBSP = '\u00a0';

describe('mail', () => {
  describe('with SMTP_URL: sent to a real SMTP server', () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let mail: MailService;
    let queue: JobQueue;

    beforeAll(async () => {
      smtp = await startSmtpServer();
      t = await startTestApp({ smtpUrl: smtp.url, mailFrom: 'CRM <crm@example.com>' });
      mail = t.app.get(MailService);
      queue = t.app.get<JobQueue>(JOB_QUEUE);
    });
    afterAll(async () => {
      await t?.close();
      await smtp?.close();
    });

    const receivedFor = (id: string) => smtp.received.filter((m) => m.raw.includes(id));
    const waitForDelivery = async (id: string) => {
      const [message] = await eventually(
        async () => receivedFor(id),
        (found) => found.length > 0,
      );
      return message;
    };
    const detail = async (id: string) => (await t.http.get(`/api/v1/admin/mail/${id}`).set('Authorization', t.auth)).body.data;

    const opportunityData = {
      owner: { name: 'Åsa' },
      opportunity: { name: 'Deal <script>alert("x")</script>', amount: 1234.5 },
      account: { name: '{{constructor.constructor "return process"}}' },
    };

    it('renders the template and delivers subject, recipients, escaped HTML, a text part and attachments', async () => {
      const queued = await mail.queue({
        to: ['owner@example.com'],
        cc: ['boss@example.com'],
        template: 'opportunity-won',
        lang: 'sv',
        data: opportunityData,
        record: { module: 'opportunities', id: '00000000-0000-4000-8000-000000000001' },
        attachments: [{ filename: 'note.txt', contentType: 'text/plain', content: Buffer.from('Attached note') }],
      });
      expect(queued).toMatchObject({ status: 'queued', created: true });

      const received = await waitForDelivery(queued.id);
      expect(received.from).toBe('crm@example.com');
      expect(received.rcpt.sort()).toEqual(['boss@example.com', 'owner@example.com']);
      const parsed = parseMime(received.raw);
      expect(parsed.headers.subject).toBe('Affärsmöjligheten Deal <script>alert("x")</script> är vunnen');
      expect(parsed.headers.to).toBe('owner@example.com');
      expect(parsed.headers.cc).toBe('boss@example.com');
      expect(parsed.headers.from).toBe('CRM <crm@example.com>');
      expect(parsed.headers['message-id']).toBe(`<${queued.id}@example.com>`);

      const html = partOf(parsed, 'text/html')!.content.toString('utf8');
      expect(html).toContain('Deal &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(html).not.toContain('<script');
      expect(html).toContain('{{constructor.constructor &quot;return process&quot;}}');
      expect(html).toContain(`1${NBSP}234,50${NBSP}kr`);
      expect(html).toContain('Hej Åsa,');
      const text = partOf(parsed, 'text/plain')!.content.toString('utf8');
      expect(text).toContain('Hej Åsa,');
      expect(text).toContain(`Belopp\t1${NBSP}234,50${NBSP}kr`);
      expect(text).toContain('Deal <script>alert("x")</script>');
      const attachment = leaves(parsed).find((p) => (p.headers['content-disposition'] ?? '').includes('note.txt'));
      expect(attachment?.content.toString('utf8')).toBe('Attached note');

      const stored = await eventually(
        () => detail(queued.id),
        (m) => m.status === 'sent',
      );
      expect(stored).toMatchObject({
        id: queued.id,
        to: ['owner@example.com'],
        cc: ['boss@example.com'],
        subject: parsed.headers.subject,
        status: 'sent',
        attempts: 1,
        lastError: null,
        template: 'opportunity-won',
        record: { module: 'opportunities', id: '00000000-0000-4000-8000-000000000001' },
        attachments: [{ filename: 'note.txt', contentType: 'text/plain', size: 13 }],
      });
      expect(stored.sentAt).toEqual(expect.any(String));
      expect(stored.html).toContain('&lt;script&gt;');
      expect(stored.text).toContain('Hej Åsa,');
    });

    it('sends a message once however often it is queued with the same idempotency key', async () => {
      const input = {
        to: ['once@example.com'],
        template: 'welcome',
        data: { product: 'metacrm', user: { name: 'Ann', email: 'ann@example.com' } },
      };
      const first = await mail.queue({ ...input, idempotencyKey: 'welcome:ann' });
      const second = await mail.queue({ ...input, idempotencyKey: 'welcome:ann' });
      expect(second).toEqual({ id: first.id, status: first.status, created: false });
      await waitForDelivery(first.id);
      await mail.dispatch(first.id); // a redelivered job finds it sent and does nothing
      await queue.idle();
      expect(receivedFor(first.id)).toHaveLength(1);
      const rows = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM mail_messages WHERE idempotency_key = 'welcome:ann'`);
      expect(Number(rows[0].n)).toBe(1);
    });

    it('writes inside the caller transaction and sends only when dispatched after the commit', async () => {
      const data = { product: 'metacrm', user: { name: 'Tx', email: 'tx@example.com' } };
      const rolledBack = t.db.transaction(async (tx) => {
        await mail.queue({ to: ['rolled-back@example.com'], template: 'welcome', data }, tx);
        throw new Error('roll back');
      });
      await expect(rolledBack).rejects.toThrow('roll back');
      const none = await t.db.query(`SELECT id FROM mail_messages WHERE to_addresses @> '["rolled-back@example.com"]'`);
      expect(none).toHaveLength(0);

      const queued = await t.db.transaction((tx) => mail.queue({ to: ['committed@example.com'], template: 'welcome', data }, tx));
      await queue.idle();
      expect(receivedFor(queued.id)).toHaveLength(0);
      expect((await detail(queued.id)).status).toBe('queued');
      await mail.dispatch(queued.id);
      await waitForDelivery(queued.id);
    });

    it('sends at start what a stopped process left queued', async () => {
      const data = { product: 'metacrm', user: { name: 'Left', email: 'left@example.com' } };
      // Written in a transaction whose process "died" before dispatching it.
      const left = await t.db.transaction((tx) => mail.queue({ to: ['left@example.com'], template: 'welcome', data }, tx));
      await mail.onApplicationBootstrap();
      await waitForDelivery(left.id);
      expect(
        (
          await eventually(
            () => detail(left.id),
            (m) => m.status === 'sent',
          )
        ).attempts,
      ).toBe(1);
    });

    it('re-queues, every 30 s, a message left queued for over a minute by a process still running', async () => {
      const data = { product: 'metacrm', user: { name: 'Stranded', email: 'stranded@example.com' } };
      const stranded = await t.db.transaction((tx) => mail.queue({ to: ['stranded@example.com'], template: 'welcome', data }, tx));
      const fresh = await t.db.transaction((tx) => mail.queue({ to: ['fresh@example.com'], template: 'welcome', data }, tx));
      await t.db.query(`UPDATE mail_messages SET created_at = created_at - interval '2 minutes' WHERE id = $1`, [stranded.id]);
      await mail.redispatchStranded();
      await waitForDelivery(stranded.id);
      await queue.idle();
      // A message queued a moment ago is its writer's to dispatch.
      expect((await detail(fresh.id)).status).toBe('queued');
      await mail.dispatch(fresh.id);
      await waitForDelivery(fresh.id);
    });

    it('retries a message the server refuses for now, then marks it failed with the last error', async () => {
      const queued = await mail.queue({
        to: [`busy@${TEMP_FAIL_DOMAIN}`],
        template: 'welcome',
        data: { product: 'metacrm', user: { name: 'B' } },
      });
      const failed = await eventually(
        () => detail(queued.id),
        (m) => m.status === 'failed',
        20000,
      );
      expect(failed.attempts).toBe(MAX_MAIL_ATTEMPTS);
      expect(failed.lastError).toContain('451');
      expect(failed.sentAt).toBeNull();
      expect(smtp.rcptSeen.filter((a) => a === `busy@${TEMP_FAIL_DOMAIN}`)).toHaveLength(MAX_MAIL_ATTEMPTS);
      expect(receivedFor(queued.id)).toHaveLength(0);

      const listed = await t.http.get('/api/v1/admin/mail?status=failed').set('Authorization', t.auth);
      expect(listed.body.data).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: queued.id, status: 'failed', attempts: MAX_MAIL_ATTEMPTS, lastError: failed.lastError }),
        ]),
      );
    }, 30000);

    it('does not retry a message the server refuses for good', async () => {
      const queued = await mail.queue({
        to: [`nobody@${PERM_FAIL_DOMAIN}`],
        template: 'welcome',
        data: { product: 'metacrm', user: { name: 'N' } },
      });
      const failed = await eventually(
        () => detail(queued.id),
        (m) => m.status === 'failed',
      );
      expect(failed).toMatchObject({ attempts: 1, lastError: expect.stringContaining('550') });
    });

    it('refuses a message without valid recipients, or with an unknown template, before storing it', async () => {
      const data = { product: 'metacrm' };
      await expect(mail.queue({ to: [], template: 'welcome', data })).rejects.toMatchObject({
        status: 422,
        code: 'mail_invalid',
        errors: [{ field: 'to', code: 'required', message: 'the message needs at least one recipient' }],
      });
      await expect(mail.queue({ to: ['ok@example.com', 'not an address'], cc: ['x@y'], template: 'welcome', data })).rejects.toMatchObject({
        code: 'mail_invalid',
        errors: [
          { field: 'to[1]', code: 'invalid_email', message: 'to[1] "not an address" is not an email address' },
          { field: 'cc[0]', code: 'invalid_email', message: 'cc[0] "x@y" is not an email address' },
        ],
      });
      await expect(mail.queue({ to: ['a@example.com\r\nBcc: evil@example.com'], template: 'welcome', data })).rejects.toMatchObject({
        code: 'mail_invalid',
      });
      await expect(mail.queue({ to: ['ok@example.com'], template: 'no-such-template', data })).rejects.toMatchObject({
        status: 404,
        code: 'template_not_found',
      });
    });

    it('lists messages newest first for admins, with a status filter; details include the bodies', async () => {
      const res = await t.http.get('/api/v1/admin/mail').set('Authorization', t.auth);
      expect(res.status).toBe(200);
      const created = res.body.data.map((m: { createdAt: string }) => m.createdAt);
      expect(created).toEqual([...created].sort().reverse());
      expect(Object.keys(res.body.data[0]).sort()).toEqual(
        ['attempts', 'cc', 'createdAt', 'id', 'lastError', 'record', 'sentAt', 'status', 'subject', 'template', 'to'].sort(),
      );
      const sent = await t.http.get('/api/v1/admin/mail?status=sent').set('Authorization', t.auth);
      expect(sent.body.data.length).toBeGreaterThan(0);
      expect(sent.body.data.every((m: { status: string }) => m.status === 'sent')).toBe(true);
    });

    it('refuses bad admin requests with problem+json', async () => {
      const badStatus = await t.http.get('/api/v1/admin/mail?status=lost').set('Authorization', t.auth);
      expect(badStatus.status).toBe(400);
      expect(badStatus.body).toMatchObject({
        type: '/problems/invalid_status',
        detail: 'status must be one of queued, sent, failed, kept.',
      });
      const badId = await t.http.get('/api/v1/admin/mail/nope').set('Authorization', t.auth);
      expect(badId.body).toMatchObject({ status: 400, type: '/problems/invalid_id' });
      const missing = await t.http.get('/api/v1/admin/mail/00000000-0000-4000-8000-000000000000').set('Authorization', t.auth);
      expect(missing.body).toMatchObject({ status: 404, type: '/problems/mail_not_found' });
      const anonymous = await t.http.get('/api/v1/admin/mail');
      expect(anonymous.status).toBe(401);
      const [sent] = (await t.http.get('/api/v1/admin/mail?status=sent').set('Authorization', t.auth)).body.data;
      const retrySent = await t.http.post(`/api/v1/admin/mail/${sent.id}/retry`).set('Authorization', t.auth);
      expect(retrySent.body).toMatchObject({ status: 409, type: '/problems/mail_not_retryable' });
    });
  });

  describe('without SMTP_URL: messages are kept and listed', () => {
    let t: TestApp;
    let mail: MailService;
    beforeAll(async () => {
      t = await startTestApp({ smtpUrl: undefined });
      mail = t.app.get(MailService);
    });
    afterAll(() => t?.close());

    it('keeps the rendered message, lists it and shows its bodies', async () => {
      const queued = await mail.queue({
        to: ['kept@example.com'],
        template: 'invoice-overdue',
        lang: 'en',
        data: {
          contact: { name: 'Kim' },
          account: { name: 'Acme' },
          invoice: {
            number: 'INV-00007',
            due_date: '2025-02-28',
            total: 99.5,
            currency: 'EUR',
            lines: [{ description: 'Support', quantity: 1, price: 99.5 }],
          },
        },
      });
      expect(queued).toMatchObject({ status: 'kept', created: true });
      await t.app.get<JobQueue>(JOB_QUEUE).idle();

      const list = await t.http.get('/api/v1/admin/mail').set('Authorization', t.auth);
      expect(list.status).toBe(200);
      expect(list.body.data[0]).toEqual({
        id: queued.id,
        to: ['kept@example.com'],
        cc: [],
        subject: 'Invoice INV-00007 is overdue',
        status: 'kept',
        attempts: 0,
        lastError: null,
        template: 'invoice-overdue',
        record: null,
        createdAt: expect.any(String),
        sentAt: null,
      });
      const kept = await t.http.get('/api/v1/admin/mail?status=kept').set('Authorization', t.auth);
      expect(kept.body.data.map((m: { id: string }) => m.id)).toContain(queued.id);
      const one = await t.http.get(`/api/v1/admin/mail/${queued.id}`).set('Authorization', t.auth);
      expect(one.body.data.html).toContain('€99.50');
      expect(one.body.data.text).toContain('Due date: Feb 28, 2025');
      expect(one.body.data.text).toContain('Support\t1\t€99.50');

      // Sending again without a transport keeps it again.
      const retried = await t.http.post(`/api/v1/admin/mail/${queued.id}/retry`).set('Authorization', t.auth);
      expect(retried.status).toBe(202);
      await t.app.get<JobQueue>(JOB_QUEUE).idle();
      expect((await t.http.get(`/api/v1/admin/mail/${queued.id}`).set('Authorization', t.auth)).body.data.status).toBe('kept');
    });
  });
});
