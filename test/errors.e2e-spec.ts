import type { Response, Test } from 'supertest';
import { account, createKey } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * A corpus of bad requests. Each must answer a 4xx problem+json whose `detail` names the cause,
 * never a 500; after all of them the process still answers /health.
 */

const MiB = 1024 * 1024;
const json = 'application/json';

interface BadRequest {
  name: string;
  send: (t: TestApp, ctx: { accountId: string; readOnlyKey: string }) => Test;
  status: number;
  type: string;
  /** What `detail` must say (every entry must appear). */
  detail: Array<string | RegExp>;
  /** The exact `errors`, when the problem carries field errors. */
  errors?: Array<{ field: string; code: string; message: string }>;
  headers?: Record<string, string>;
}

const nested = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

const CORPUS: BadRequest[] = [
  // --- the body is not JSON, or not an object ---
  {
    name: 'broken JSON',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('{"name": "Acme",'),
    status: 400,
    type: '/problems/malformed_json',
    detail: ['not valid JSON'],
  },
  {
    name: 'JSON with a trailing comma',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('{"name": "Acme",}'),
    status: 400,
    type: '/problems/malformed_json',
    detail: ['not valid JSON'],
  },
  {
    name: 'text/plain body',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', 'text/plain').send('name=Acme'),
    status: 415,
    type: '/problems/unsupported_media_type',
    detail: ['Content-Type: application/json', 'text/plain'],
  },
  {
    name: 'form-urlencoded body',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).type('form').send({ name: 'Acme' }),
    status: 415,
    type: '/problems/unsupported_media_type',
    detail: ['application/json', 'application/x-www-form-urlencoded'],
  },
  {
    name: 'XML body',
    send: (t) =>
      t.http
        .patch('/api/v1/accounts/00000000-0000-4000-8000-000000000000')
        .set('Authorization', t.auth)
        .set('Content-Type', 'application/xml')
        .send('<name>Acme</name>'),
    status: 415,
    type: '/problems/unsupported_media_type',
    detail: ['application/xml'],
  },
  {
    name: 'a charset other than UTF-8',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', 'application/json; charset=latin1')
        .send('{"name":"Acme"}'),
    status: 415,
    type: '/problems/unsupported_charset',
    detail: ['unsupported charset "LATIN1"; send UTF-8.'],
  },
  {
    name: 'a body that is not gzip although Content-Encoding says so',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .set('Content-Encoding', 'gzip')
        .send('{"name":"Acme"}'),
    status: 400,
    type: '/problems/unreadable_body',
    detail: ['could not be read', 'Content-Encoding'],
  },
  {
    name: 'an unknown Content-Encoding',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .set('Content-Encoding', 'zip')
        .send('{"name":"Acme"}'),
    status: 415,
    type: '/problems/unsupported_content_encoding',
    detail: ['Content-Encoding "zip" is not supported'],
  },
  ...(
    [
      ['a JSON array', '[{"name":"Acme"}]'],
      ['a JSON string', '"Acme"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
    ] as const
  ).map(([name, body]): BadRequest => ({
    name: `${name} instead of an object`,
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send(body),
    status: 400,
    type: '/problems/body_not_object',
    detail: ['Send the accounts record as a JSON object of field values.'],
  })),
  {
    name: 'a JSON array as a PATCH',
    send: (t, { accountId }) =>
      t.http
        .patch(`/api/v1/accounts/${accountId}`)
        .set('Authorization', t.auth)
        .send([{ name: 'Acme' }]),
    status: 400,
    type: '/problems/body_not_object',
    detail: ['JSON object'],
  },

  // --- values ---
  {
    name: 'wrong types',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 42, employees: '12', annual_revenue: true }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"name" must be a string', '"employees" must be an integer'],
    errors: [
      { field: 'name', code: 'wrong_type', message: '"name" must be a string' },
      { field: 'employees', code: 'wrong_type', message: '"employees" must be an integer or a null' },
      { field: 'annual_revenue', code: 'wrong_type', message: '"annual_revenue" must be a number or a null' },
    ],
  },
  {
    name: 'an unknown field',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'Acme', colour: 'red' }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"colour" is not a field of accounts'],
    errors: [{ field: 'colour', code: 'unknown_field', message: '"colour" is not a field of accounts' }],
  },
  {
    name: 'a value outside the picklist',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'Acme', type: 'enemy' }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"type" must be one of'],
    errors: [
      {
        field: 'type',
        code: 'not_an_option',
        message: '"type" must be one of "customer", "prospect", "partner", "supplier", "other", null',
      },
    ],
  },
  {
    name: 'a bad UUID in a relation field',
    send: (t) => t.http.post('/api/v1/contacts').set('Authorization', t.auth).send({ last_name: 'Berg', account: "1' OR '1'='1" }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"account" must be a valid uuid'],
    errors: [{ field: 'account', code: 'invalid_format', message: '"account" must be a valid uuid' }],
  },
  {
    name: 'a relation to a record that does not exist',
    send: (t) =>
      t.http
        .post('/api/v1/contacts')
        .set('Authorization', t.auth)
        .send({ last_name: 'Berg', account: '00000000-0000-4000-8000-000000000000' }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['no accounts record with id 00000000-0000-4000-8000-000000000000'],
    errors: [
      {
        field: 'account',
        code: 'related_record_not_found',
        message: '"account": there is no accounts record with id 00000000-0000-4000-8000-000000000000',
      },
    ],
  },
  {
    name: '1e400 (beyond a double) in an integer field',
    send: (t) =>
      t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('{"name":"Acme","employees":1e400}'),
    status: 400,
    type: '/problems/number_out_of_range',
    detail: ['"employees" is a number too large to represent'],
    errors: [
      { field: 'employees', code: 'number_out_of_range', message: 'is a number too large to represent (beyond ±1.7976931348623157e308)' },
    ],
  },
  {
    name: '-1e400 in a line price',
    send: (t) =>
      t.http
        .post('/api/v1/invoices')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .send('{"subject":"S","lines":[{"price":-1e400}]}'),
    status: 400,
    type: '/problems/number_out_of_range',
    detail: ['"lines[0].price" is a number too large to represent'],
  },
  {
    name: '1e308 in an integer field',
    send: (t) =>
      t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('{"name":"Acme","employees":1e308}'),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"employees" must be <= 9007199254740991'],
    errors: [{ field: 'employees', code: 'out_of_range', message: '"employees" must be <= 9007199254740991' }],
  },
  {
    name: '1e308 in a currency field',
    send: (t) =>
      t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('{"name":"Acme","annual_revenue":1e308}'),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"annual_revenue" must be <= 1000000000000000'],
    errors: [{ field: 'annual_revenue', code: 'out_of_range', message: '"annual_revenue" must be <= 1000000000000000' }],
  },
  {
    name: '12345678901234567890 in an integer field',
    send: (t) =>
      t.http
        .post('/api/v1/products')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .send('{"name":"Plank","stock":12345678901234567890}'),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"stock" must be <= 9007199254740991'],
    errors: [{ field: 'stock', code: 'out_of_range', message: '"stock" must be <= 9007199254740991' }],
  },
  {
    name: 'a fraction in an integer field',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'Acme', employees: 2.5 }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"employees" must be an integer'],
  },
  {
    name: 'an over-long string',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .send({ name: 'x'.repeat(201) }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"name" must be at most 200 characters'],
    errors: [{ field: 'name', code: 'too_long', message: '"name" must be at most 200 characters' }],
  },
  {
    name: 'a NUL character in a string',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ name: 'Ac\u0000me' }),
    status: 400,
    type: '/problems/invalid_character',
    detail: ['"name" contains the NUL character'],
    errors: [{ field: 'name', code: 'invalid_character', message: 'contains the NUL character (\\u0000), which text cannot hold' }],
  },
  {
    name: 'a missing required field',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).send({ city: 'Umeå' }),
    status: 422,
    type: '/problems/record_invalid',
    detail: ['"name" is required'],
    errors: [{ field: 'name', code: 'required', message: '"name" is required' }],
  },

  // --- size and shape ---
  {
    name: 'a body over the 1 MiB limit',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .send({ name: 'Acme', description: 'x'.repeat(MiB + 10) }),
    status: 413,
    type: '/problems/body_too_large',
    detail: ['larger than the limit of 1048576 bytes'],
  },
  {
    name: '100 levels of nesting',
    send: (t) => t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send(nested(100)),
    status: 400,
    type: '/problems/body_too_deep',
    detail: ['nested deeper than 32 levels'],
  },
  {
    name: '100 000 levels of array nesting',
    send: (t) =>
      t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .send('['.repeat(100_000) + ']'.repeat(100_000)),
    status: 400,
    type: '/problems/body_too_deep',
    detail: ['nested deeper than 32 levels'],
  },

  // --- addressing ---
  {
    name: 'an unknown module',
    send: (t) => t.http.post('/api/v1/spaceships').set('Authorization', t.auth).send({ name: 'Enterprise' }),
    status: 404,
    type: '/problems/unknown_module',
    detail: ['"spaceships"', 'Known modules: accounts'],
  },
  {
    name: 'a bad UUID in the path',
    send: (t) => t.http.get('/api/v1/accounts/123').set('Authorization', t.auth),
    status: 400,
    type: '/problems/invalid_id',
    detail: ['"123" is not a record id'],
  },
  {
    name: 'a path that does not URL-decode',
    send: (t) => t.http.get('/api/v1/accounts/%E0%A4%A').set('Authorization', t.auth),
    status: 400,
    type: 'about:blank',
    detail: ['decode'],
  },
  {
    name: 'an unknown record',
    send: (t) => t.http.get('/api/v1/accounts/00000000-0000-4000-8000-000000000000').set('Authorization', t.auth),
    status: 404,
    type: '/problems/record_not_found',
    detail: ['00000000-0000-4000-8000-000000000000'],
  },
  {
    name: 'an unknown route',
    send: (t) => t.http.get('/api/v2/accounts/x/y').set('Authorization', t.auth),
    status: 404,
    type: 'about:blank',
    detail: ['No route GET /api/v2/accounts/x/y'],
  },
  {
    name: 'a method the route does not allow (PUT on a record)',
    send: (t, { accountId }) => t.http.put(`/api/v1/accounts/${accountId}`).set('Authorization', t.auth).send({ name: 'Acme' }),
    status: 405,
    type: 'about:blank',
    detail: ['PUT is not allowed', 'PATCH'],
    headers: { allow: 'GET, PATCH, DELETE, HEAD' },
  },
  {
    name: 'a method the route does not allow (DELETE on a collection)',
    send: (t) => t.http.delete('/api/v1/accounts').set('Authorization', t.auth),
    status: 405,
    type: 'about:blank',
    detail: ['DELETE is not allowed on /api/v1/accounts'],
    headers: { allow: 'GET, POST, HEAD' },
  },

  // --- preconditions ---
  {
    name: 'an If-Match that is not an ETag',
    send: (t, { accountId }) =>
      t.http.patch(`/api/v1/accounts/${accountId}`).set('Authorization', t.auth).set('If-Match', 'banana').send({ city: 'Luleå' }),
    status: 400,
    type: '/problems/invalid_if_match',
    detail: ['If-Match must be the record\'s ETag, e.g. "3"; got banana.'],
  },
  {
    name: 'a stale If-Match',
    send: (t, { accountId }) =>
      t.http.patch(`/api/v1/accounts/${accountId}`).set('Authorization', t.auth).set('If-Match', '"99"').send({ city: 'Luleå' }),
    status: 412,
    type: '/problems/stale_version',
    detail: ['99'],
  },

  // --- authentication and permissions ---
  {
    name: 'no API key',
    send: (t) => t.http.get('/api/v1/accounts'),
    status: 401,
    type: '/problems/missing_api_key',
    detail: ['Authorization: Bearer <key>'],
  },
  {
    name: 'an invalid API key',
    send: (t) => t.http.get('/api/v1/accounts').set('Authorization', 'Bearer not-a-real-key'),
    status: 401,
    type: '/problems/invalid_api_key',
    detail: ['not valid'],
  },
  {
    name: 'a malformed Authorization header',
    send: (t) => t.http.get('/api/v1/accounts').set('Authorization', 'Basic dXNlcjpwYXNz'),
    status: 401,
    type: '/problems/missing_api_key',
    detail: ['malformed', 'Bearer'],
  },
  {
    name: 'a key without the permission',
    send: (t, { readOnlyKey }) => t.http.post('/api/v1/accounts').set('Authorization', readOnlyKey).send({ name: 'Acme' }),
    status: 403,
    type: '/problems/permission_denied',
    detail: ['"accounts:create"'],
  },

  // --- list parameters ---
  {
    name: 'an unknown list parameter',
    send: (t) => t.http.get('/api/v1/accounts?page=2').set('Authorization', t.auth),
    status: 400,
    type: '/problems/invalid_query',
    detail: ['Unknown query parameter "page"'],
  },
  {
    name: 'a filter on an unknown field',
    send: (t) => t.http.get('/api/v1/accounts?filter[colour][eq]=red').set('Authorization', t.auth),
    status: 400,
    type: '/problems/invalid_query',
    detail: ['"colour" is not a filterable field of accounts'],
  },
];

describe('error corpus', () => {
  let t: TestApp;
  const ctx = { accountId: '', readOnlyKey: '' };

  beforeAll(async () => {
    t = await startTestApp();
    ctx.accountId = (await account(t)).id;
    ctx.readOnlyKey = await createKey(t, ['accounts:read']);
  });
  afterAll(() => t.close());

  describe('fails', () => {
    it.each(CORPUS.map((c) => [c.name, c]))('%s', async (_, c) => {
      const res: Response = await c.send(t, ctx);
      expect({ status: res.status, body: res.body }).toMatchObject({ status: c.status, body: { type: c.type, status: c.status } });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.title).toEqual(expect.any(String));
      expect(res.body.title).not.toMatch(/Exception|Error$/);
      for (const part of c.detail)
        expect(res.body.detail).toEqual(part instanceof RegExp ? expect.stringMatching(part) : expect.stringContaining(part));
      if (c.errors) expect(res.body.errors).toEqual(c.errors);
      for (const [name, value] of Object.entries(c.headers ?? {})) expect(res.headers[name]).toBe(value);
    });

    it('answers exact problem bodies', async () => {
      const broken = await t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send('[1, 2');
      expect(broken.body).toEqual({
        type: '/problems/malformed_json',
        title: 'Bad Request',
        status: 400,
        detail: expect.stringMatching(/^The request body is not valid JSON: /),
        instance: '/api/v1/accounts',
      });
      const deep = await t.http.post('/api/v1/accounts').set('Authorization', t.auth).set('Content-Type', json).send(nested(100));
      expect(deep.body).toEqual({
        type: '/problems/body_too_deep',
        title: 'Bad Request',
        status: 400,
        detail: 'The JSON body is nested deeper than 32 levels.',
        instance: '/api/v1/accounts',
      });
      const big = await t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .send('"' + 'x'.repeat(MiB) + '"');
      expect(big.body).toEqual({
        type: '/problems/body_too_large',
        title: 'Content Too Large',
        status: 413,
        detail: 'The request body is larger than the limit of 1048576 bytes.',
        instance: '/api/v1/accounts',
      });
      const route = await t.http.get('/nowhere').set('Authorization', t.auth);
      expect(route.body).toEqual({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'No route GET /nowhere. See /api/docs for the endpoints.',
        instance: '/nowhere',
      });
      const method = await t.http.post('/health');
      expect(method.headers.allow).toBe('GET, HEAD');
      expect(method.body).toEqual({
        type: 'about:blank',
        title: 'Method Not Allowed',
        status: 405,
        detail: 'POST is not allowed on /health; use GET, HEAD.',
        instance: '/health',
      });
      const huge = await t.http
        .post('/api/v1/accounts')
        .set('Authorization', t.auth)
        .set('Content-Type', json)
        .send('{"name":"Acme","employees":1e400}');
      expect(huge.body).toEqual({
        type: '/problems/number_out_of_range',
        title: 'Bad Request',
        status: 400,
        detail: '"employees" is a number too large to represent (beyond ±1.7976931348623157e308).',
        instance: '/api/v1/accounts',
        errors: [
          {
            field: 'employees',
            code: 'number_out_of_range',
            message: 'is a number too large to represent (beyond ±1.7976931348623157e308)',
          },
        ],
      });
    });

    it('leaves no trace: nothing was created by the corpus', async () => {
      const res = await t.http.get('/api/v1/accounts?limit=500').set('Authorization', t.auth);
      expect(res.body.data.map((a: { id: string }) => a.id)).toEqual([ctx.accountId]);
    });
  });

  describe('succeeds', () => {
    it('the process is still up: /health answers 200', async () => {
      const res = await t.http.get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', database: { status: 'up' } });
    });

    it('and serves ordinary requests', async () => {
      const res = await t.http.get(`/api/v1/accounts/${ctx.accountId}`).set('Authorization', t.auth);
      expect(res.status).toBe(200);
    });
  });
});
