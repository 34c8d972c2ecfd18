import { randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from './support/test-app';

// Two engine processes share one database only on PostgreSQL (PGlite serves one process).
const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;

onPostgres('metadata published by one process', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const databaseSchema = `t_${randomBytes(6).toString('hex')}`;
    a = await startTestApp({ databaseSchema }, { keepSchema: true });
    b = await startTestApp({ databaseSchema });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('takes effect in the other processes too (LISTEN/NOTIFY)', async () => {
    const body = { name: 'depots', label: { en: 'Depot' }, fields: { name: { type: 'text', required: true } } };
    expect((await a.http.put('/api/v1/admin/metadata/modules/depots').set('Authorization', a.auth).send(body)).status).toBe(201);
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 201; attempt++) {
      status = (await b.http.post('/api/v1/depots').set('Authorization', b.auth).send({ name: 'East' })).status;
      if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(201);
  });
});
