import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

describe('outbox delivery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  const get = async (module: string, id: string) => (await t.http.get(`/api/v1/${module}/${id}`).set('Authorization', t.auth)).body.data;

  it('writes the event in the saving transaction: a rejected save leaves no event', async () => {
    const acc = await account(t);
    // Handled events are deleted: count the events written after this point.
    const [{ last }] = await t.db.query<{ last: string }>('SELECT last_value::text AS last FROM outbox_id_seq');
    const rejected = await t.http
      .post('/api/v1/invoices')
      .set('Authorization', t.auth)
      .send({ subject: 'S', account: acc.id, status: 'sent' });
    expect(rejected.status).toBe(422);
    const [{ n }] = await t.db.query<{ n: string }>('SELECT count(*)::int AS n FROM outbox WHERE id > $1::bigint', [last]);
    expect(Number(n)).toBe(0);
  });

  it('still delivers an event committed by a process that stopped before handing it on', async () => {
    const acc = await account(t, { name: 'Crash AB' });
    await createRecord(t, 'invoices', { subject: 'A', account: acc.id, lines: [{ quantity: 1, price: 80, vat_rate: 25 }] });
    await eventually(
      () => get('accounts', acc.id),
      (a) => a.total_invoiced === 100,
    );
    // As if a process committed this change and died before its relay ran: the stored rollup is stale
    // and only the outbox row knows.
    await t.db.query(`UPDATE records SET data = data || '{"total_invoiced": 1}' WHERE id = $1`, [acc.id]);
    await t.db.query(`INSERT INTO outbox (topic, payload) VALUES ('record.changed', $1::jsonb)`, [
      JSON.stringify({
        module: 'invoices',
        id: '00000000-0000-4000-8000-000000000000',
        relations: { account: [acc.id, acc.id] },
        depth: 0,
      }),
    ]);
    // Nobody kicks the relay: its poll finds the row.
    await eventually(
      () => get('accounts', acc.id),
      (a) => a.total_invoiced === 100,
      8000,
    );
    // The refresh writes events of its own (the account's readers); all of them drain.
    await eventually(
      async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox'))[0].n),
      (pending) => pending === 0,
    );
  });
});
