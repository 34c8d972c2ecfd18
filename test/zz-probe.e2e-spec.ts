import { startTestApp, type TestApp } from './support/test-app';
import { account } from './support/factories';
describe('probe', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(() => t.close());
  it('probes', async () => {
    const show = async (label: string, p: any) => { const r = await p; console.log(label, r.status, JSON.stringify(r.body).slice(0, 400)); };
    const pub = await t.http.put('/api/v1/admin/metadata/modules/gadgets').set('Authorization', t.auth).send({
      name: 'gadgets', label: { en: 'Gadget' }, numbering: { prefix: 'GAD-', padding: 4 },
      fields: { name: { type: 'text', required: true }, tags: { type: 'multipicklist', options: ['red', 'green', 'blue'] },
        seen_at: { type: 'datetime' }, due: { type: 'date' }, account: { type: 'relation', module: 'accounts' }, ok: { type: 'boolean' }, qty: { type: 'integer' }, price: { type: 'currency' } } });
    const a = await account(t);
    await t.http.post('/api/v1/gadgets').set('Authorization', t.auth).send({ name: 'x', tags: ['red', 'blue'], seen_at: '2024-01-01T10:00:00+02:00', due: '2024-02-03', account: a.id, ok: true, qty: 3, price: 9.5 });
    await t.http.post('/api/v1/gadgets').set('Authorization', t.auth).send({ name: 'y', ok: false });
    const q = (s: string) => show(s, t.http.get('/api/v1/gadgets?' + s).set('Authorization', t.auth));
    await q('filter[ok][in]=true,false&fields=name');
    await q('filter[ok][in]=true&fields=name');
    await q('filter[ok][nin]=true&fields=name');
    await q('filter[seen_at][gt]=5&fields=name');
    await q('filter[due][gt]=2024-99-99&fields=name');
    await q('filter[name][eq]=%00&fields=name');
    await q('q=%00&fields=name');
    await q('filter[name][eq]=%ZZ&fields=name');
    await q('filter[name][eq]=%C0%AF&fields=name');
    await q('filter[constructor][eq]=x');
    await q('filter[__proto__][eq]=x');
    await q('sort=__proto__');
    await q('sort=constructor');
    await q('fields=__proto__');
    await q('sort=toString');
    await q('filter[name][constructor]=x');
    await q('filter[name][__proto__]=x');
    const cur = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await q('cursor=' + cur({ s: '-createdAt', v: ["x'; DROP TABLE records;--"], id: a.id }));
    await q('cursor=' + cur({ s: '-createdAt', v: [], id: a.id }));
    await q('cursor=' + cur({ s: 'qty', v: ['abc'], id: a.id }) + '&sort=qty');
    await q('cursor=' + cur({ s: 'ok', v: ['abc'], id: a.id }) + '&sort=ok');
    await q('cursor=' + cur({ s: 'qty', v: [null, 'x'], id: a.id }) + '&sort=qty');
    await q('cursor=%27%20OR%201%3D1');
    await q('cursor=');
    await q('cursor=null');
    await q('cursor=' + cur([]));
    await q('cursor=' + cur({ s: 'qty', v: [{}], id: a.id }) + '&sort=qty');
    await show('badpath', t.http.get('/api/v1/accounts/%E0%A4%A').set('Authorization', t.auth));
    await show('badpath2', t.http.get('/api/v1/%E0%A4%A').set('Authorization', t.auth));
    await show('id nul', t.http.get('/api/v1/accounts/%00').set('Authorization', t.auth));
    await show('mod quote', t.http.get("/api/v1/accounts'--").set('Authorization', t.auth));
  });
});
