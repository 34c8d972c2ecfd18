import { createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const gauges = (fields: Record<string, unknown>) => ({
  name: 'gauges',
  label: { en: 'Gauge', sv: 'Mätare' },
  fields: { reading: { type: 'decimal' }, ...fields },
});

describe('publishing formulas', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  const put = (body: object) => t.http.put('/api/v1/admin/metadata/modules/gauges').set('Authorization', t.auth).send(body);

  it('rejects a cycle, naming it', async () => {
    const res = await put(
      gauges({
        a: { type: 'decimal', formula: 'b + 1' },
        b: { type: 'decimal', formula: 'c + 1' },
        c: { type: 'decimal', formula: 'a + 1' },
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.problems).toEqual([
      expect.objectContaining({ pointer: '/fields/a/formula', message: expect.stringContaining('a → b → c → a') }),
    ]);
  });

  it('rejects a syntax error with its line and column', async () => {
    const res = await put(gauges({ doubled: { type: 'decimal', formula: 'reading *\n  (2 +' } }));
    expect(res.status).toBe(422);
    expect(res.body.problems[0]).toMatchObject({
      pointer: '/fields/doubled/formula',
      message: expect.stringMatching(/line 2, column \d+/),
    });
  });

  it('rejects a record function naming an unknown relation', async () => {
    const res = await put(gauges({ site: { type: 'text', formula: "$related('site').name" } }));
    expect(res.status).toBe(422);
    expect(res.body.problems[0].message).toContain('"site" is not a relation field of gauges');
  });

  it('backfills existing records when a formula is published or changed, with progress visible', async () => {
    expect((await put(gauges({}))).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await createRecord(t, 'gauges', { reading: i })).id);
    expect((await put(gauges({ doubled: { type: 'decimal', formula: 'reading * 2' } }))).status).toBe(200);
    const jobs = await eventually(
      async () =>
        (await t.http.get('/api/v1/admin/jobs?type=formula.backfill').set('Authorization', t.auth)).body.data as Array<{
          id: string;
          payload: { module: string };
        }>,
      (list) => list.some((j) => j.payload.module === 'gauges'),
    );
    const jobId = jobs.find((j) => j.payload.module === 'gauges')!.id;
    const job = await eventually(
      async () => (await t.http.get(`/api/v1/admin/jobs/${jobId}`).set('Authorization', t.auth)).body.data,
      (j) => j.status === 'completed',
    );
    expect(job).toMatchObject({ type: 'formula.backfill', progress: { done: 30, total: 30 }, error: null });
    const last = await t.http.get(`/api/v1/gauges/${ids[29]}`).set('Authorization', t.auth);
    expect(last.body.data.doubled).toBe(58);

    // Changing the formula backfills again.
    await put(gauges({ doubled: { type: 'decimal', formula: 'reading * 3' } }));
    await eventually(
      async () => (await t.http.get(`/api/v1/gauges/${ids[29]}`).set('Authorization', t.auth)).body.data.doubled,
      (v) => v === 87,
    );
  });

  it('stops a runaway formula with a clear 422 within a second while the API stays responsive', async () => {
    await put(gauges({ spin: { type: 'decimal', formula: '($loop := function($n) { $n < 0 ? 0 : $loop($n + 1) }; $loop(0))' } }));
    const started = Date.now();
    const [save, health] = await Promise.all([
      t.http.post('/api/v1/gauges').set('Authorization', t.auth).send({ reading: 1 }),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const before = Date.now();
        const res = await t.http.get('/health');
        return { status: res.status, took: Date.now() - before };
      })(),
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(save.status).toBe(422);
    expect(save.body.errors).toEqual([
      expect.objectContaining({ field: 'spin', code: 'formula_failed', message: expect.stringContaining('spin') }),
    ]);
    expect(health.status).toBe(200);
    expect(health.took).toBeLessThan(500);
  });

  it('rejects a formula result of the wrong type without storing anything', async () => {
    await put(gauges({ label_value: { type: 'integer', formula: '"not a number"' } }));
    const res = await t.http.post('/api/v1/gauges').set('Authorization', t.auth).send({ reading: 1 });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ field: 'label_value', code: 'formula_type' });
  });
});
