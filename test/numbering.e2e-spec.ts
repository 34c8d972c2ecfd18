import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

describe('numbering and concurrency', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('gives 50 concurrent creates 50 distinct consecutive numbers', async () => {
    const first = await createRecord(t, 'products', { name: 'first' });
    const start = Number(first.number.replace('PRD-', ''));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.http
          .post('/api/v1/products')
          .set('Authorization', t.auth)
          .send({ name: `p${i}` }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const numbers = responses.map((r) => Number(r.body.data.number.replace('PRD-', ''))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => start + 1 + i));
  });

  it('numbers each module independently, with its prefix and padding', async () => {
    const acc = await account(t);
    const contact = await createRecord(t, 'contacts', { last_name: 'Lind', account: acc.id });
    expect(acc.number).toMatch(/^ACC-\d{5}$/);
    expect(contact.number).toMatch(/^CON-\d{5}$/);
  });

  it('does not burn a number on a rejected create', async () => {
    const before = await createRecord(t, 'activities', { subject: 'Call' });
    const rejected = await t.http
      .post('/api/v1/activities')
      .set('Authorization', t.auth)
      .send({ subject: 'Call', account: '00000000-0000-4000-8000-000000000001' });
    expect(rejected.status).toBe(422);
    const after = await createRecord(t, 'activities', { subject: 'Call again' });
    expect(Number(after.number.slice(4))).toBe(Number(before.number.slice(4)) + 1);
  });

  it('lets exactly one of two concurrent updates with the same If-Match win', async () => {
    const acc = await account(t, { name: 'Race' });
    const [a, b] = await Promise.all(
      ['A', 'B'].map((name) =>
        t.http.patch(`/api/v1/accounts/${acc.id}`).set('Authorization', t.auth).set('If-Match', '"1"').send({ name }),
      ),
    );
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? 'A' : 'B';
    const now = await t.http.get(`/api/v1/accounts/${acc.id}`).set('Authorization', t.auth);
    expect(now.body.data).toMatchObject({ name: winner, version: 2 });
  });
});
