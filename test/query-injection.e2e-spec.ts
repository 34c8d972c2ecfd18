import type { Response } from 'supertest';
import { account } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * Hostile list parameters: keys (sort, filter field and operator, fields) resolve against module
 * metadata, so anything unknown is a 400; values travel as bind parameters, so they only ever
 * match (or not) as data. Nothing may answer 500, and the records table must come out intact.
 */

const PAYLOADS = [
  "name'; DROP TABLE records;--",
  "'; DROP TABLE records; --",
  ') OR 1=1 --',
  "' OR '1'='1",
  "x' UNION SELECT id, module, number, data FROM records --",
  "data->>'x'",
  "data->'name'",
  'name"',
  '"name"',
  '$1',
  '$1::text',
  '?',
  'name; SELECT pg_sleep(5)',
  "name' || (SELECT version()) || '",
  '1::numeric',
  '‘name’',
  '“name”',
  'ʼ OR ʼ1ʼ=ʼ1',
  '\u0000',
  'name\u0000',
  '%',
  '_',
  '\\',
  '*/ SELECT 1 /*',
  '__proto__',
  'constructor',
  'name desc',
  'name::text',
  '(SELECT 1)',
];

const query = (params: Array<[string, string]>) => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
const label = (s: string) => JSON.stringify(s);

describe('query injection', () => {
  let t: TestApp;
  let canary: Record<string, any>;
  let recordsBefore: number;
  const responses: Array<{ what: string; res: Response }> = [];
  const city = `Injection-${Date.now()}`;

  const list = async (params: Array<[string, string]>, module = 'accounts') => {
    const res = await t.http.get(`/api/v1/${module}?${query(params)}`).set('Authorization', t.auth);
    responses.push({ what: query(params), res });
    return res;
  };
  const countRecords = async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n);

  beforeAll(async () => {
    t = await startTestApp();
    canary = await account(t, { name: 'Canary AB', city, annual_revenue: 1000 });
    recordsBefore = await countRecords();
  });

  afterAll(async () => {
    await t.close();
  });

  describe('fails: hostile keys are refused with a 400 naming them', () => {
    const expectInvalidQuery = (res: Response, field: string, code: string) => {
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: '/problems/invalid_query', title: 'Bad Request', status: 400 });
      expect(res.body.errors.length).toBeGreaterThan(0);
      for (const error of res.body.errors) expect(error).toEqual({ field, code, message: expect.any(String) });
    };

    it.each(PAYLOADS.map((p) => [label(p), p]))('sort=%s', async (_, payload) => {
      expectInvalidQuery(await list([['sort', payload]]), 'sort', 'unknown_sort_key');
      expectInvalidQuery(await list([['sort', `-${payload}`]]), 'sort', 'unknown_sort_key');
      expectInvalidQuery(await list([['sort', `name,${payload}`]]), 'sort', 'unknown_sort_key');
    });

    it.each(PAYLOADS.map((p) => [label(p), p]))('filter[%s][eq]', async (_, payload) => {
      const res = await list([[`filter[${payload}][eq]`, 'x']]);
      expectInvalidQuery(res, `filter[${payload}][eq]`, 'unknown_field');
      expect(res.body.errors[0].message).toBe(`filter[${payload}][eq]: "${payload}" is not a filterable field of accounts.`);
    });

    it.each(PAYLOADS.map((p) => [label(p), p]))('filter[name][%s]', async (_, payload) => {
      const res = await list([[`filter[name][${payload}]`, 'x']]);
      expectInvalidQuery(res, `filter[name][${payload}]`, 'unknown_operator');
    });

    it.each(PAYLOADS.map((p) => [label(p), p]))('fields=%s', async (_, payload) => {
      expectInvalidQuery(await list([['fields', payload]]), 'fields', 'unknown_field');
      expectInvalidQuery(await list([['fields', `name,${payload}`]]), 'fields', 'unknown_field');
    });

    it.each(PAYLOADS.map((p) => [label(p), p]))('cursor=%s, raw and inside a forged cursor', async (_, payload) => {
      const raw = await list([['cursor', payload]]);
      expect(raw.status).toBe(400);
      expect(raw.body.type).toBe('/problems/invalid_cursor');
      const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const forged of [
        { s: '-createdAt', v: [payload], id: canary.id },
        { s: payload, v: ['2024-01-01 00:00:00+00'], id: canary.id },
        { s: '-createdAt', v: ['2024-01-01 00:00:00+00'], id: payload },
        { s: 'annual_revenue', v: [payload], id: canary.id },
      ]) {
        const sort: Array<[string, string]> = forged.s === 'annual_revenue' ? [['sort', 'annual_revenue']] : [];
        const res = await list([...sort, ['cursor', forge(forged)]]);
        expect(res.status).toBe(400);
        expect(res.body.type).toBe('/problems/invalid_cursor');
      }
    });

    it('numeric, date, boolean and relation filters refuse a hostile value before it reaches SQL', async () => {
      for (const payload of PAYLOADS) {
        for (const key of [
          'filter[annual_revenue][gt]',
          'filter[employees][in]',
          'filter[createdAt][lt]',
          'filter[parent_account][eq]',
          'filter[id][eq]',
        ]) {
          expectInvalidQuery(await list([[key, payload]]), key, payload.includes('\u0000') ? 'invalid_character' : 'invalid_filter_value');
        }
        expectInvalidQuery(
          await list([['filter[type][eq]', payload]]),
          'filter[type][eq]',
          payload.includes('\u0000') ? 'invalid_character' : 'invalid_filter_value',
        );
        expectInvalidQuery(
          await list([['filter[email_opt_out][eq]', payload]], 'contacts'),
          'filter[email_opt_out][eq]',
          payload.includes('\u0000') ? 'invalid_character' : 'invalid_filter_value',
        );
        expectInvalidQuery(
          await list([['filter[due_date][eq]', payload]], 'invoices'),
          'filter[due_date][eq]',
          payload.includes('\u0000') ? 'invalid_character' : 'invalid_filter_value',
        );
      }
    });

    it.each([
      ['filter[data->>name][eq]', 'unknown_field'],
      ["filter[data->>'name'][eq]", 'unknown_field'],
      ['filter[data][eq]', 'unknown_field'],
      ['filter[name.x][eq]', 'unknown_field'],
      ['filter[name::text][eq]', 'unknown_field'],
      ['filter[NAME][eq]', 'unknown_field'],
      ['filter[ name][eq]', 'unknown_field'],
      ['filter[][eq]', 'unknown_field'],
      ['filter[name][]', 'unknown_operator'],
      ['filter[name][EQ]', 'unknown_operator'],
    ])('JSON-path-looking filter key %s', async (key, code) => {
      expectInvalidQuery(await list([[key, 'Canary AB']]), key, code);
    });

    it.each(["data->>'name'", 'data->>name', 'data', 'name.x', 'name ASC', 'name;', '1', 'id DESC NULLS FIRST', '', '-'])(
      'sort=%s',
      async (sort) => {
        const res = await list([['sort', `${sort},${sort}x`]]);
        expectInvalidQuery(res, 'sort', 'unknown_sort_key');
      },
    );

    it.each([
      ['filter[name][eq][x]', 'unknown_parameter'],
      ['filter[name]x', 'unknown_parameter'],
      ['filter', 'unknown_parameter'],
      ["sort'", 'unknown_parameter'],
      ['data', 'unknown_parameter'],
    ])('malformed parameter name %s', async (key, code) => {
      expectInvalidQuery(await list([[key, 'x']]), key, code);
    });

    it('a NUL character in a value or q is a 400 naming the parameter', async () => {
      const res = await list([['filter[name][eq]', 'a\u0000b']]);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        {
          field: 'filter[name][eq]',
          code: 'invalid_character',
          message: 'filter[name][eq]: the value contains the NUL character (\\u0000), which no field can hold.',
        },
      ]);
      const q = await list([['q', '\u0000']]);
      expect(q.body.errors).toEqual([
        { field: 'q', code: 'invalid_character', message: 'q: the value contains the NUL character (\\u0000), which no field can hold.' },
      ]);
    });

    it('a hostile module name or record id is a 404 or 400', async () => {
      for (const payload of PAYLOADS) {
        const mod = await t.http.get(`/api/v1/${encodeURIComponent(payload)}`).set('Authorization', t.auth);
        responses.push({ what: `module ${label(payload)}`, res: mod });
        expect([400, 404]).toContain(mod.status);
        const id = await t.http.get(`/api/v1/accounts/${encodeURIComponent(payload)}`).set('Authorization', t.auth);
        responses.push({ what: `id ${label(payload)}`, res: id });
        expect([400, 404]).toContain(id.status);
      }
    });
  });

  describe('succeeds: hostile values are data', () => {
    // (No gt/lt here: how text orders depends on the database's collation.)
    const TEXT_KEYS = [
      'filter[name][eq]',
      'filter[name][ne]',
      'filter[name][contains]',
      'filter[name][startsWith]',
      'filter[name][in]',
      'filter[name][nin]',
    ];

    it.each(PAYLOADS.filter((p) => !p.includes('\u0000')).map((p) => [label(p), p]))(
      'text filters and q with %s answer 200 with only what matches',
      async (_, payload) => {
        for (const key of TEXT_KEYS) {
          const res = await list([
            ['filter[city][eq]', city],
            [key, payload],
          ]);
          expect(res.status).toBe(200);
          const expected = key.endsWith('[ne]') || key.endsWith('[nin]') ? [canary.id] : [];
          expect(res.body.data.map((r: { id: string }) => r.id)).toEqual(expected);
        }
        const q = await list([
          ['filter[city][eq]', city],
          ['q', payload],
        ]);
        expect(q.status).toBe(200);
        expect(q.body.data).toEqual([]);
      },
    );

    it('a record whose values are injection strings is stored and found verbatim', async () => {
      const nasty = await account(t, { name: "O'Brien'); DROP TABLE records;--", city, description: "%_\\ $1 “quoted” data->>'x'" });
      const find = async (key: string, value: string) =>
        (
          await list([
            [key, value],
            ['filter[city][eq]', city],
          ])
        ).body.data.map((r: { id: string }) => r.id);
      expect(await find('filter[name][eq]', "O'Brien'); DROP TABLE records;--")).toEqual([nasty.id]);
      expect(await find('filter[name][startsWith]', "o'brien')")).toEqual([nasty.id]);
      expect(await find('filter[name][contains]', 'drop table')).toEqual([nasty.id]);
      expect(await find('filter[description][contains]', '%_\\')).toEqual([nasty.id]);
      expect(await find('filter[description][contains]', '$1 “quoted”')).toEqual([nasty.id]);
      expect(await find('q', "data->>'x'")).toEqual([nasty.id]);
      // % and _ are not wildcards
      expect(await find('filter[name][contains]', '%')).toEqual([]);
      expect(await find('filter[name][startsWith]', '_')).toEqual([]);
      const deleted = await t.http.delete(`/api/v1/accounts/${nasty.id}`).set('Authorization', t.auth);
      expect(deleted.status).toBe(204);
    });
  });

  describe('afterwards', () => {
    it('no request answered 500, and every error was problem+json', () => {
      expect(responses.length).toBeGreaterThan(PAYLOADS.length * 10);
      const failures = responses.filter(
        ({ res }) => res.status >= 500 || (res.status >= 400 && !String(res.headers['content-type']).includes('application/problem+json')),
      );
      expect(failures.map(({ what, res }) => `${res.status} ${what}`)).toEqual([]);
    });

    it('the records table is intact: the canary is readable and the count unchanged', async () => {
      const res = await t.http.get(`/api/v1/accounts/${canary.id}`).set('Authorization', t.auth);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(canary);
      expect(await countRecords()).toBe(recordsBefore);
      const listed = await t.http.get(`/api/v1/accounts?filter[city][eq]=${city}`).set('Authorization', t.auth);
      expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([canary.id]);
    });
  });
});
