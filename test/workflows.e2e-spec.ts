import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { JOB_QUEUE, type JobQueue } from '../src/queue/job-queue';
import { SYSTEM_CONTEXT } from '../src/common/request-context';
import { RecordService } from '../src/records/record.service';
import { WorkflowEngine } from '../src/workflows/workflow.engine';
import { RECORD_SAVED } from '../src/workflows/workflow.types';
import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';
import { describeIfService, redisAvailable, TEST_REDIS_URL } from './support/redis';

const SECRET = 'webhook-secret-for-tests';

/** The same workflow suite on each queue driver: in-process always, BullMQ when Redis answers (always in CI). */
const DRIVERS: Array<{ name: string; redisUrl: string | undefined }> = [{ name: 'in-process', redisUrl: undefined }];
const bullmq = { name: 'BullMQ', redisUrl: TEST_REDIS_URL };

function workflowSuite(driver: { name: string; redisUrl: string | undefined }) {
  let t: TestApp;
  let hooks: Server;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  beforeAll(async () => {
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = req.url === '/fail' ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    t = await startTestApp({ webhookSecret: SECRET, webhookAllowedHosts: ['127.0.0.1'], redisUrl: driver.redisUrl });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => hooks.close(resolve));
  });
  const auth = () => t.auth;
  const get = async (module: string, id: string) => (await t.http.get(`/api/v1/${module}/${id}`).set('Authorization', auth())).body.data;
  const runsOf = async (module: string, id: string) =>
    (await t.http.get(`/api/v1/${module}/${id}/workflow-runs`).set('Authorization', auth())).body.data;
  const publish = (name: string, body: object) =>
    t.http.put(`/api/v1/admin/metadata/workflows/${name}`).set('Authorization', auth()).send(body);
  const idle = () => t.app.get<JobQueue>(JOB_QUEUE).idle();

  it('opportunity won: queues an email and creates a linked follow-up activity, with a visible run log', async () => {
    const acc = await account(t);
    const contact = await createRecord(t, 'contacts', { last_name: 'Ek', email: 'ek@example.com', account: acc.id });
    const opp = await createRecord(t, 'opportunities', { name: 'Sawmill', account: acc.id, contact: contact.id, amount: 50000 });
    await t.http.patch(`/api/v1/opportunities/${opp.id}`).set('Authorization', auth()).send({ stage: 'won', close_date: '2026-11-25' });
    const [run] = await eventually(
      () => runsOf('opportunities', opp.id),
      (runs) => runs.length === 1 && runs[0].status === 'completed',
    );
    expect(run).toMatchObject({ workflow: 'opportunity_won', trigger: 'update', attempts: 1, error: null });
    expect(run.steps.map((s: { action: string; status: string }) => [s.action, s.status])).toEqual([
      ['sendEmail', 'completed'],
      ['createRecord', 'completed'],
    ]);
    const activity = await get('activities', run.steps[1].result.created.id);
    expect(activity).toMatchObject({
      subject: 'Follow up: Sawmill',
      type: 'task',
      opportunity: opp.id,
      account: acc.id,
      contact: contact.id,
    });
    const mail = (await t.http.get('/api/v1/admin/mail').set('Authorization', auth())).body.data.find(
      (m: { id: string }) => m.id === run.steps[0].result.mail,
    );
    expect(mail).toMatchObject({ status: 'kept', to: ['sales@example.com', 'ek@example.com'], subject: 'Opportunity Sawmill won' });
    const body = (await t.http.get(`/api/v1/admin/mail/${mail.id}`).set('Authorization', auth())).body.data.html;
    expect(body).toContain('Sawmill');
    expect(body).toContain('50,000.00');
  });

  it('account address changed: its contacts get the new address', async () => {
    const acc = await account(t, { street: 'Old road 1', city: 'Umeå' });
    const a = await createRecord(t, 'contacts', { last_name: 'A', account: acc.id });
    const b = await createRecord(t, 'contacts', { last_name: 'B', account: acc.id });
    await t.http.patch(`/api/v1/accounts/${acc.id}`).set('Authorization', auth()).send({ street: 'New street 2', city: 'Luleå' });
    for (const contact of [a, b]) {
      await eventually(
        () => get('contacts', contact.id),
        (c) => c.street === 'New street 2' && c.city === 'Luleå',
      );
    }
    const history = (await t.http.get(`/api/v1/contacts/${a.id}/history`).set('Authorization', auth())).body.data;
    expect(history.length).toBeGreaterThanOrEqual(0);
  });

  it('invoice overdue (scheduled): a tick flags overdue invoices and mails a reminder, once per tick', async () => {
    const acc = await account(t);
    const overdue = await createRecord(t, 'invoices', { subject: 'Late', account: acc.id, status: 'sent', due_date: '2020-01-31' });
    const current = await createRecord(t, 'invoices', { subject: 'Fine', account: acc.id, status: 'sent', due_date: '2999-01-31' });
    const engine = t.app.get(WorkflowEngine);
    await engine.tick('invoice_overdue');
    await engine.tick('invoice_overdue');
    await eventually(
      () => get('invoices', overdue.id),
      (i) => i.status === 'overdue',
    );
    await idle();
    expect((await get('invoices', current.id)).status).toBe('sent');
    const runs = await runsOf('invoices', overdue.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', status: 'completed' });
  });

  it('adds a contact to and removes it from a target group by a condition', async () => {
    const contact = await createRecord(t, 'contacts', { last_name: 'News', email: 'news@example.com' });
    await eventually(
      () => get('contacts', contact.id),
      (c) => (c.target_groups ?? []).includes('newsletter'),
    );
    await t.http.patch(`/api/v1/contacts/${contact.id}`).set('Authorization', auth()).send({ email_opt_out: true });
    await eventually(
      () => get('contacts', contact.id),
      (c) => !(c.target_groups ?? []).includes('newsletter'),
    );
    await idle();
    const runs = await runsOf('contacts', contact.id);
    expect(runs.filter((r: { status: string }) => r.status === 'failed')).toEqual([]);
  });

  it('writes a record.saved event only for the saves some workflow starts on', async () => {
    const events = (module: string, op: 'create' | 'update' | 'delete') =>
      t.app
        .get(RecordService)
        .write(SYSTEM_CONTEXT, async (writer) =>
          writer.eventsFor(writer.snapshot.module(module), '00000000-0000-4000-8000-000000000001', op, {}, {}).map((e) => e.topic),
        );
    // opportunity_won starts on update; no workflow starts on an opportunity's create or delete.
    expect(await events('opportunities', 'update')).toContain(RECORD_SAVED);
    expect(await events('opportunities', 'create')).not.toContain(RECORD_SAVED);
    expect(await events('opportunities', 'delete')).not.toContain(RECORD_SAVED);
    // invoice_overdue is scheduled: no save of an invoice starts it.
    expect(await events('invoices', 'update')).not.toContain(RECORD_SAVED);
  });

  it('a rolled-back save starts no run', async () => {
    const acc = await account(t);
    const opp = await createRecord(t, 'opportunities', { name: 'Rollback', account: acc.id });
    const rejected = await t.http.patch(`/api/v1/opportunities/${opp.id}`).set('Authorization', auth()).send({ stage: 'won' });
    expect(rejected.status).toBe(422); // close_date is required once won
    await idle();
    expect(await runsOf('opportunities', opp.id)).toEqual([]);
  });

  it('exactly once: a run delivered twice creates one record and sends one email', async () => {
    const acc = await account(t);
    const opp = await createRecord(t, 'opportunities', { name: 'Twice', account: acc.id });
    await t.http.patch(`/api/v1/opportunities/${opp.id}`).set('Authorization', auth()).send({ stage: 'won', close_date: '2026-11-25' });
    const [run] = await eventually(
      () => runsOf('opportunities', opp.id),
      (runs) => runs[0]?.status === 'completed',
    );
    const engine = t.app.get(WorkflowEngine);
    await engine.run(run.id);
    // As if a process had stopped while running it from the start: the run claims again once it is stale.
    await t.db.query(
      `UPDATE workflow_runs SET status = 'running', next_step = 0, updated_at = updated_at - interval '1 minute' WHERE id = $1`,
      [run.id],
    );
    await engine.run(run.id);
    // A running run that is not stale belongs to whoever runs it: a second delivery leaves it alone.
    await t.db.query(`UPDATE workflow_runs SET status = 'running' WHERE id = $1`, [run.id]);
    await engine.run(run.id);
    const [again] = await runsOf('opportunities', opp.id);
    expect(again).toMatchObject({ status: 'running', attempts: 2 });
    await t.db.query(`UPDATE workflow_runs SET status = 'completed' WHERE id = $1`, [run.id]);
    const activities = await t.db.query(`SELECT id FROM records WHERE module = 'activities' AND data->>'opportunity' = $1`, [opp.id]);
    expect(activities).toHaveLength(1);
    const mails = await t.db.query(`SELECT id FROM mail_messages WHERE workflow_run_id = $1`, [run.id]);
    expect(mails).toHaveLength(1);
  });

  it('commits consecutive database steps together: a step that fails undoes the steps of its group', async () => {
    const body = {
      name: 'all_or_nothing',
      module: 'products',
      trigger: 'create',
      actions: [
        { type: 'updateFields', values: { description: "'touched by the workflow'" } },
        // last_name is required: this step fails on every attempt.
        { type: 'createRecord', module: 'contacts', values: { first_name: 'name' } },
      ],
    };
    expect((await publish('all_or_nothing', body)).status).toBe(201);
    const product = await createRecord(t, 'products', { name: 'Atomic' });
    const [failed] = await eventually(
      () => runsOf('products', product.id),
      (runs) => runs[0]?.status === 'failed',
    );
    expect(failed.attempts).toBe(5);
    expect(failed.error).toContain('Step 1 (createRecord) failed after 5 attempts');
    // Step 0's update was rolled back with step 1 each time: the product is as it was saved, and step 0 is not done.
    expect((await get('products', product.id)).description ?? null).toBeNull();
    expect(failed.steps.map((s: { step: number; status: string }) => [s.step, s.status])).toEqual([[1, 'failed']]);
    await publish('all_or_nothing', { ...body, enabled: false });
  });

  it('stops two workflows that update each other’s records, with a clear error in the run log', async () => {
    const ping = {
      name: 'ping_contacts',
      module: 'accounts',
      trigger: 'update',
      watch: { field: 'description', op: 'changed' },
      actions: [
        { type: 'updateRelatedRecords', module: 'contacts', relation: 'account', values: { description: "'ping ' & $string($millis())" } },
      ],
    };
    const pong = {
      name: 'pong_account',
      module: 'contacts',
      trigger: 'update',
      watch: { field: 'description', op: 'changed' },
      actions: [{ type: 'updateLinkedRecord', relation: 'account', values: { description: "'pong ' & $string($millis())" } }],
    };
    expect((await publish('ping_contacts', ping)).status).toBe(201);
    expect((await publish('pong_account', pong)).status).toBe(201);
    const acc = await account(t);
    await createRecord(t, 'contacts', { last_name: 'Loop', account: acc.id });
    await t.http.patch(`/api/v1/accounts/${acc.id}`).set('Authorization', auth()).send({ description: 'start' });
    const stopped = await eventually(
      async () => (await t.http.get('/api/v1/admin/workflow-runs?status=stopped').set('Authorization', auth())).body.data,
      (runs) => runs.some((r: { recordId: string }) => r.recordId === acc.id),
    );
    const run = stopped.find((r: { recordId: string }) => r.recordId === acc.id);
    expect(run.error).toContain('would run again');
    expect(run.error).toContain('ping_contacts → pong_account → ping_contacts');
    await idle();
    for (const name of ['ping_contacts', 'pong_account'])
      await publish(name, { ...(name === 'ping_contacts' ? ping : pong), enabled: false });
  });

  it('signs webhooks with HMAC-SHA256 and one delivery id; blocks internal targets unless allow-listed', async () => {
    const port = (hooks.address() as AddressInfo).port;
    await publish('product_hook', {
      name: 'product_hook',
      module: 'products',
      trigger: 'create',
      actions: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, timeoutMs: 2000 }],
    });
    const product = await createRecord(t, 'products', { name: 'Hooked' });
    const [run] = await eventually(
      () => runsOf('products', product.id),
      (runs) => runs[0]?.status === 'completed',
    );
    const call = received.find((r) => r.headers['x-metacrm-delivery'] === `${run.id}:0`)!;
    expect(JSON.parse(call.body)).toMatchObject({ workflow: 'product_hook', record: { id: product.id, name: 'Hooked' } });
    const [, t0, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(call.headers['x-metacrm-signature']))!;
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t0}.${call.body}`).digest('hex'));

    await publish('product_hook', {
      name: 'product_hook',
      module: 'products',
      trigger: 'create',
      actions: [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data', timeoutMs: 500 }],
    });
    const blocked = await createRecord(t, 'products', { name: 'Metadata thief' });
    const [failed] = await eventually(
      () => runsOf('products', blocked.id),
      (runs) => runs[0]?.status === 'failed',
      20000,
    );
    expect(failed.error).toContain('internal address');
    expect(failed.attempts).toBe(5);
    const listed = (await t.http.get('/api/v1/admin/workflow-runs?status=failed').set('Authorization', auth())).body.data;
    expect(listed.map((r: { id: string }) => r.id)).toContain(failed.id);

    // Re-runnable: point the workflow at a working target and retry the failed run.
    await publish('product_hook', {
      name: 'product_hook',
      module: 'products',
      trigger: 'create',
      actions: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook` }],
    });
    expect((await t.http.post(`/api/v1/admin/workflow-runs/${failed.id}/retry`).set('Authorization', auth())).status).toBe(202);
    await eventually(
      () => runsOf('products', blocked.id),
      (runs) => runs[0]?.status === 'completed',
    );
    await publish('product_hook', {
      name: 'product_hook',
      module: 'products',
      trigger: 'create',
      enabled: false,
      actions: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook` }],
    });
  }, 40000);

  it('delays a run and resumes it when the time comes', async () => {
    await publish('product_delay', {
      name: 'product_delay',
      module: 'products',
      trigger: 'create',
      actions: [
        { type: 'delay', seconds: 1 },
        { type: 'updateFields', values: { description: "'reviewed after a pause'" } },
      ],
    });
    const product = await createRecord(t, 'products', { name: 'Patient' });
    const [waiting] = await eventually(
      () => runsOf('products', product.id),
      (runs) => runs[0]?.status === 'waiting',
    );
    expect(waiting.resumeAt).toEqual(expect.any(String));
    await eventually(
      () => get('products', product.id),
      (p) => p.description === 'reviewed after a pause',
    );
    await publish('product_delay', {
      name: 'product_delay',
      module: 'products',
      trigger: 'create',
      enabled: false,
      actions: [{ type: 'delay', seconds: 1 }],
    });
  });

  it('runs the workflow of a save committed by a process that stopped before handing its event on', async () => {
    const acc = await account(t, { city: 'Kiruna' });
    const contact = await createRecord(t, 'contacts', { last_name: 'Crash', account: acc.id, city: 'Kiruna' });
    // As if a process committed this change with its outbox event and died before the relay ran.
    await t.db.query(`UPDATE records SET data = data || '{"city": "Gällivare"}' WHERE id = $1`, [acc.id]);
    await t.db.query(`INSERT INTO outbox (topic, payload) VALUES ('record.saved', $1::jsonb)`, [
      JSON.stringify({
        eventId: '6f1c0e2a-5b7e-4a51-9d7c-2f8e4c1b9a10',
        module: 'accounts',
        id: acc.id,
        op: 'update',
        before: { name: acc.name, city: 'Kiruna' },
        after: { name: acc.name, city: 'Gällivare' },
        causation: [],
        depth: 0,
      }),
    ]);
    await eventually(
      () => get('contacts', contact.id),
      (c) => c.city === 'Gällivare',
      10000,
    );
  });

  it('runs a module tool as a workflow action', async () => {
    expect(
      (
        await publish('credit_on_request', {
          name: 'credit_on_request',
          module: 'invoices',
          trigger: 'update',
          watch: { field: 'notes', op: 'changedTo', value: 'credit please' },
          actions: [{ type: 'runTool', tool: 'credit_invoice', params: { reason: "'Requested: ' & number" } }],
        })
      ).status,
    ).toBe(201);
    const acc = await account(t);
    const invoice = await createRecord(t, 'invoices', {
      subject: 'Auto',
      account: acc.id,
      status: 'sent',
      due_date: '2026-12-31',
      lines: [{ quantity: 2, price: 50 }],
    });
    await t.http.patch(`/api/v1/invoices/${invoice.id}`).set('Authorization', auth()).send({ notes: 'credit please' });
    const [run] = await eventually(
      () => runsOf('invoices', invoice.id),
      (runs) => runs.some((r: { workflow: string; status: string }) => r.workflow === 'credit_on_request' && r.status === 'completed'),
    );
    const creditId = run.steps[0].result.created[0].id;
    expect(await get('invoices', creditId)).toMatchObject({
      credited_invoice: invoice.id,
      notes: `Requested: ${invoice.number}`,
      total: -125,
    });
    expect((await get('invoices', invoice.id)).status).toBe('credited');
    const unknown = await publish('credit_on_request', {
      name: 'credit_on_request',
      module: 'invoices',
      trigger: 'update',
      actions: [{ type: 'runTool', tool: 'teleport' }],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.problems[0]).toMatchObject({ pointer: '/actions/0/tool' });
  });

  it('rejects invalid workflows at publish with pointers', async () => {
    const res = await publish('broken', {
      name: 'broken',
      module: 'accounts',
      trigger: 'update',
      watch: { field: 'nme', op: 'changed' },
      actions: [
        { type: 'updateFields', values: { total_invoiced: '1', nope: "'x'" } },
        { type: 'createRecord', module: 'ghosts', values: { a: '1' } },
      ],
    });
    expect(res.status).toBe(422);
    const pointers = res.body.problems.map((p: { pointer: string }) => p.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining(['/watch/field', '/actions/0/values/total_invoiced', '/actions/0/values/nope', '/actions/1/module']),
    );
  });
}

for (const driver of DRIVERS) describe(`workflows on the ${driver.name} queue`, () => workflowSuite(driver));
describeIfService(redisAvailable(), `Redis is not reachable at ${TEST_REDIS_URL}`, `workflows on the ${bullmq.name} queue`, () =>
  workflowSuite(bullmq),
);
