import { describeTwoProcesses } from './support/test-app';

describeTwoProcesses('metadata published by one process', (apps) => {
  it('takes effect in the other processes too (LISTEN/NOTIFY)', async () => {
    const { a, b } = apps;
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
