import { account, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * The list endpoint through HTTP: every filter operator on every kind of field, multi-key sort,
 * keyset pagination (complete, stable under inserts), projection, search, limits and archiving.
 * Each test works on its own `batch` value, so records of one test never show up in another.
 */

/** A small module with one field of each filterable type (no shipped module has a multipicklist). */
const GIZMOS = {
  name: 'gizmos',
  label: { en: 'Gizmo' },
  numbering: { prefix: 'GIZ-', padding: 4 },
  fields: {
    name: { type: 'text', required: true, maxLength: 100 },
    batch: { type: 'text', maxLength: 50, indexed: true },
    code: { type: 'text', maxLength: 20 },
    notes: { type: 'textarea' },
    kind: { type: 'picklist', options: ['alpha', 'beta', 'gamma'] },
    tags: { type: 'multipicklist', options: ['red', 'green', 'blue'] },
    qty: { type: 'integer' },
    price: { type: 'currency' },
    ratio: { type: 'decimal' },
    due: { type: 'date' },
    seen_at: { type: 'datetime' },
    active: { type: 'boolean' },
    account: { type: 'relation', module: 'accounts' },
  },
};

type Params = Array<[string, string]>;
type Row = Record<string, any>;

const query = (params: Params) => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

describe('records list API', () => {
  let t: TestApp;

  const list = (params: Params, module = 'gizmos') => t.http.get(`/api/v1/${module}?${query(params)}`).set('Authorization', t.auth);
  const gizmo = (batch: string, data: Row) => createRecord(t, 'gizmos', { batch, ...data });

  /** Names of the batch's records matching `params`, in the order the API returns them. */
  async function names(batch: string, params: Params): Promise<string[]> {
    const res = await list([['filter[batch][eq]', batch], ...params, ['fields', 'name'], ['limit', '500']]);
    expect(res.status).toBe(200);
    return res.body.data.map((r: Row) => r.name);
  }

  /** Follows `page.nextCursor` to the end; returns the pages. */
  async function walk(params: Params, between?: (pageIndex: number) => Promise<void>): Promise<Row[][]> {
    const pages: Row[][] = [];
    let cursor: string | null = null;
    do {
      const res = await list([...params, ...(cursor ? ([['cursor', cursor]] as Params) : [])]);
      expect(res.status).toBe(200);
      pages.push(res.body.data);
      cursor = res.body.page.nextCursor;
      if (pages.length > 50) throw new Error('pagination does not end');
      if (cursor && between) await between(pages.length - 1);
    } while (cursor);
    return pages;
  }

  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.http.put('/api/v1/admin/metadata/modules/gizmos').set('Authorization', t.auth).send(GIZMOS);
    if (res.status !== 201) throw new Error(`publish gizmos failed: ${res.status} ${JSON.stringify(res.body)}`);
  });
  afterAll(() => t.close());

  describe('filters', () => {
    const F = 'filters';
    const r: Record<string, Row> = {};
    let a1: Row;
    let a2: Row;

    beforeAll(async () => {
      a1 = await account(t, { name: 'Filter One AB' });
      a2 = await account(t, { name: 'Filter Two AB' });
      r.alpha = await gizmo(F, {
        name: 'alpha one',
        kind: 'alpha',
        tags: ['red', 'blue'],
        qty: 3,
        price: 9.5,
        ratio: 0.25,
        due: '2024-02-03',
        seen_at: '2024-01-01T10:00:00+02:00',
        active: true,
        account: a1.id,
        notes: 'has notes',
      });
      r.beta = await gizmo(F, {
        name: 'beta two',
        kind: 'beta',
        tags: ['green'],
        qty: 10,
        price: 100,
        ratio: 1.5,
        due: '2024-03-01',
        seen_at: '2024-06-15T12:00:00Z',
        active: false,
        account: a2.id,
        notes: 'more notes',
      });
      r.gamma = await gizmo(F, {
        name: 'gamma three',
        kind: 'gamma',
        tags: [],
        qty: -2,
        price: 0,
        ratio: 0,
        due: '2023-12-31',
        seen_at: '2023-12-31T23:59:59Z',
        active: true,
        notes: '',
      });
      r.delta = await gizmo(F, { name: 'delta' });
    });

    const ALPHA = 'alpha one';
    const BETA = 'beta two';
    const GAMMA = 'gamma three';
    const DELTA = 'delta';

    describe('succeeds', () => {
      // [field type, filter key, value, names expected]
      const cases: Array<[string, string, string, string[]]> = [
        ['text', 'filter[name][eq]', 'delta', [DELTA]],
        ['text (eq is exact)', 'filter[name][eq]', 'Delta', []],
        ['text (no op means eq)', 'filter[name]', 'delta', [DELTA]],
        ['text', 'filter[name][ne]', 'delta', [ALPHA, BETA, GAMMA]],
        ['text', 'filter[name][gt]', 'c', [DELTA, GAMMA]],
        ['text', 'filter[name][gte]', 'delta', [DELTA, GAMMA]],
        ['text', 'filter[name][lt]', 'beta two', [ALPHA]],
        ['text', 'filter[name][lte]', 'beta two', [ALPHA, BETA]],
        ['text', 'filter[name][in]', 'delta,gamma three', [DELTA, GAMMA]],
        ['text', 'filter[name][nin]', 'delta,alpha one', [BETA, GAMMA]],
        ['text (case-insensitive)', 'filter[name][contains]', 'TWO', [BETA]],
        ['text', 'filter[name][contains]', 'ta', [BETA, DELTA]],
        ['text (case-insensitive)', 'filter[name][startsWith]', 'GAM', [GAMMA]],
        ['text', 'filter[name][startsWith]', 'one', []],
        ['textarea ("" and missing are empty)', 'filter[notes][empty]', 'true', [GAMMA, DELTA]],
        ['textarea', 'filter[notes][empty]', 'false', [ALPHA, BETA]],

        ['picklist', 'filter[kind][eq]', 'alpha', [ALPHA]],
        ['picklist (ne keeps empty values)', 'filter[kind][ne]', 'alpha', [BETA, GAMMA, DELTA]],
        ['picklist', 'filter[kind][in]', 'alpha,gamma', [ALPHA, GAMMA]],
        ['picklist (nin keeps empty values)', 'filter[kind][nin]', 'alpha,beta', [GAMMA, DELTA]],
        ['picklist', 'filter[kind][empty]', 'true', [DELTA]],

        ['integer', 'filter[qty][eq]', '3', [ALPHA]],
        ['integer', 'filter[qty][ne]', '3', [BETA, GAMMA, DELTA]],
        ['integer (numeric, not text: 10 > 2)', 'filter[qty][gt]', '2', [ALPHA, BETA]],
        ['integer', 'filter[qty][gte]', '3', [ALPHA, BETA]],
        ['integer (negative)', 'filter[qty][lt]', '0', [GAMMA]],
        ['integer', 'filter[qty][lte]', '3', [ALPHA, GAMMA]],
        ['integer', 'filter[qty][in]', '3,10', [ALPHA, BETA]],
        ['integer', 'filter[qty][nin]', '3,-2', [BETA, DELTA]],
        ['integer', 'filter[qty][empty]', 'true', [DELTA]],

        ['currency (100.00 = 100)', 'filter[price][eq]', '100.00', [BETA]],
        ['currency', 'filter[price][gt]', '9.5', [BETA]],
        ['currency', 'filter[price][gte]', '9.5', [ALPHA, BETA]],
        ['currency', 'filter[price][lt]', '9.5', [GAMMA]],
        ['currency', 'filter[price][lte]', '0', [GAMMA]],
        ['currency', 'filter[price][empty]', 'false', [ALPHA, BETA, GAMMA]],
        ['decimal', 'filter[ratio][lt]', '1', [ALPHA, GAMMA]],

        ['date', 'filter[due][eq]', '2024-02-03', [ALPHA]],
        ['date', 'filter[due][ne]', '2024-02-03', [BETA, GAMMA, DELTA]],
        ['date', 'filter[due][gt]', '2024-01-01', [ALPHA, BETA]],
        ['date', 'filter[due][gte]', '2024-03-01', [BETA]],
        ['date', 'filter[due][lt]', '2024-01-01', [GAMMA]],
        ['date', 'filter[due][lte]', '2024-02-03', [ALPHA, GAMMA]],
        ['date', 'filter[due][in]', '2024-02-03,2023-12-31', [ALPHA, GAMMA]],
        ['date', 'filter[due][empty]', 'true', [DELTA]],

        ['datetime', 'filter[seen_at][eq]', '2024-01-01T08:00:00Z', [ALPHA]],
        ['datetime (offset normalised to UTC)', 'filter[seen_at][eq]', '2024-01-01T10:00:00+02:00', [ALPHA]],
        ['datetime', 'filter[seen_at][gt]', '2024-01-01T09:00:00+02:00', [ALPHA, BETA]],
        ['datetime (a date is UTC midnight)', 'filter[seen_at][gte]', '2024-01-01', [ALPHA, BETA]],
        ['datetime', 'filter[seen_at][lt]', '2024-01-01T00:00:00Z', [GAMMA]],
        ['datetime', 'filter[seen_at][lte]', '2024-06-15T12:00:00.000Z', [ALPHA, BETA, GAMMA]],
        ['datetime', 'filter[seen_at][empty]', 'true', [DELTA]],

        ['boolean', 'filter[active][eq]', 'true', [ALPHA, GAMMA]],
        ['boolean', 'filter[active][eq]', 'false', [BETA]],
        ['boolean', 'filter[active][ne]', 'true', [BETA, DELTA]],
        ['boolean', 'filter[active][in]', 'true,false', [ALPHA, BETA, GAMMA]],
        ['boolean', 'filter[active][nin]', 'true', [BETA, DELTA]],
        ['boolean', 'filter[active][empty]', 'true', [DELTA]],

        ['multipicklist (holds the value)', 'filter[tags][eq]', 'red', [ALPHA]],
        ['multipicklist', 'filter[tags][contains]', 'blue', [ALPHA]],
        ['multipicklist (holds any)', 'filter[tags][in]', 'red,green', [ALPHA, BETA]],
        ['multipicklist', 'filter[tags][ne]', 'red', [BETA, GAMMA, DELTA]],
        ['multipicklist', 'filter[tags][nin]', 'red,green', [GAMMA, DELTA]],
        ['multipicklist ([] and missing are empty)', 'filter[tags][empty]', 'true', [GAMMA, DELTA]],
        ['multipicklist', 'filter[tags][empty]', 'false', [ALPHA, BETA]],
      ];

      it.each(cases)('%s: %s=%s', async (_type, key, value, expected) => {
        expect((await names(F, [[key, value]])).sort()).toEqual([...expected].sort());
      });

      it('filters relations by record id', async () => {
        const by = async (key: string, value: string) => (await names(F, [[key, value]])).sort();
        expect(await by('filter[account][eq]', a1.id)).toEqual([ALPHA]);
        expect(await by('filter[account][ne]', a1.id)).toEqual([BETA, DELTA, GAMMA]);
        expect(await by('filter[account][in]', `${a1.id},${a2.id}`)).toEqual([ALPHA, BETA]);
        expect(await by('filter[account][nin]', a1.id)).toEqual([BETA, DELTA, GAMMA]);
        expect(await by('filter[account][empty]', 'true')).toEqual([DELTA, GAMMA]);
      });

      it('filters system columns: id, number, createdAt (and its snake-case alias)', async () => {
        const by = async (params: Params) => (await names(F, params)).sort();
        expect(await by([['filter[id][eq]', r.beta.id]])).toEqual([BETA]);
        expect(await by([['filter[id][in]', `${r.alpha.id},${r.gamma.id}`]])).toEqual([ALPHA, GAMMA]);
        expect(await by([['filter[id][in]', `${r.alpha.id.toUpperCase()},${r.gamma.id}`]])).toEqual([ALPHA, GAMMA]);
        expect(await by([['filter[id][eq]', r.beta.id.toUpperCase()]])).toEqual([BETA]);
        expect(await by([['filter[number][eq]', r.alpha.number]])).toEqual([ALPHA]);
        expect(await by([['filter[number][startsWith]', 'giz-']])).toEqual([ALPHA, BETA, DELTA, GAMMA]);
        expect(await by([['filter[createdAt][gte]', r.alpha.createdAt]])).toEqual([ALPHA, BETA, DELTA, GAMMA]);
        expect(await by([['filter[created_at][lt]', r.alpha.createdAt]])).toEqual([]);
      });

      it('combines filters with AND', async () => {
        expect(
          await names(F, [
            ['filter[kind][in]', 'alpha,beta'],
            ['filter[qty][gt]', '5'],
          ]),
        ).toEqual([BETA]);
        expect(
          await names(F, [
            ['filter[active][eq]', 'true'],
            ['filter[price][gt]', '1'],
            ['filter[tags][eq]', 'blue'],
          ]),
        ).toEqual([ALPHA]);
      });

      it('works on the shipped modules (accounts: text, currency, integer)', async () => {
        const city = `Filterby-${Date.now()}`;
        await account(t, { name: 'Small', city, annual_revenue: 1000, employees: 3 });
        await account(t, { name: 'Large', city, annual_revenue: 5_000_000, employees: 250 });
        const res = await list(
          [
            ['filter[city][eq]', city],
            ['filter[annual_revenue][gte]', '1000'],
            ['filter[employees][lt]', '100'],
          ],
          'accounts',
        );
        expect(res.status).toBe(200);
        expect(res.body.data.map((a: Row) => a.name)).toEqual(['Small']);
      });
    });

    describe('fails', () => {
      const invalid = (key: string, message: string) => ({ field: key, code: 'invalid_filter_value', message: `${key}: ${message}` });
      const cases: Array<[string, string, Record<string, string>]> = [
        ['filter[kind][eq]', 'omega', invalid('filter[kind][eq]', '"omega" is not one of the options (alpha, beta, gamma).')],
        ['filter[qty][gt]', 'ten', invalid('filter[qty][gt]', '"ten" is not a number.')],
        ['filter[price][in]', '1,2,x', invalid('filter[price][in]', '"x" is not a number.')],
        ['filter[due][eq]', '2024-02-30', invalid('filter[due][eq]', '"2024-02-30" is not a date (YYYY-MM-DD).')],
        ['filter[due][gt]', 'yesterday', invalid('filter[due][gt]', '"yesterday" is not a date (YYYY-MM-DD).')],
        ['filter[seen_at][gt]', '5', invalid('filter[seen_at][gt]', '"5" is not an ISO date-time.')],
        ['filter[createdAt][gt]', 'soon', invalid('filter[createdAt][gt]', '"soon" is not an ISO date-time.')],
        ['filter[active][eq]', 'yes', invalid('filter[active][eq]', '"yes" is not true or false.')],
        ['filter[account][eq]', 'abc', invalid('filter[account][eq]', '"abc" is not a record id (UUID).')],
        ['filter[id][eq]', '42', invalid('filter[id][eq]', '"42" is not a UUID.')],
        ['filter[tags][eq]', 'purple', invalid('filter[tags][eq]', '"purple" is not one of the options (red, green, blue).')],
        [
          'filter[tags][gt]',
          'red',
          invalid('filter[tags][gt]', 'gt does not apply to a multipicklist; use eq, ne, in, nin, contains or empty.'),
        ],
        ['filter[qty][contains]', '1', invalid('filter[qty][contains]', 'contains applies to text fields only.')],
        ['filter[active][startsWith]', 't', invalid('filter[active][startsWith]', 'startsWith applies to text fields only.')],
        ['filter[name][empty]', 'maybe', invalid('filter[name][empty]', 'empty takes true or false.')],
        [
          'filter[name][like]',
          'x',
          {
            field: 'filter[name][like]',
            code: 'unknown_operator',
            message:
              'filter[name][like]: unknown operator "like"; use one of eq, ne, gt, gte, lt, lte, in, nin, contains, startsWith, empty.',
          },
        ],
        [
          'filter[colour][eq]',
          'red',
          {
            field: 'filter[colour][eq]',
            code: 'unknown_field',
            message: 'filter[colour][eq]: "colour" is not a filterable field of gizmos.',
          },
        ],
        ['filter[qty][in]', Array.from({ length: 101 }, (_, i) => String(i)).join(','), invalid('filter[qty][in]', 'at most 100 values.')],
        [
          'filter[name][eq]',
          'x'.repeat(1001),
          { field: 'filter[name][eq]', code: 'too_long', message: 'filter[name][eq]: the value is longer than 1000 characters.' },
        ],
      ];

      it.each(cases)('%s=%s is a 400 naming the filter', async (key, value, error) => {
        const res = await list([[key, value]]);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body).toEqual({
          type: '/problems/invalid_query',
          title: 'Bad Request',
          status: 400,
          detail: error.message,
          instance: '/api/v1/gizmos',
          errors: [error],
        });
      });

      it('reports every bad parameter at once', async () => {
        const res = await list([
          ['filter[qty][gt]', 'ten'],
          ['filter[colour][eq]', 'x'],
          ['sort', 'nope'],
          ['limit', '0'],
        ]);
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: Row) => e.field)).toEqual(['filter[qty][gt]', 'filter[colour][eq]', 'limit', 'sort']);
        for (const e of res.body.errors) expect(res.body.detail).toContain(e.message);
      });

      it('refuses lines fields, which are not filterable', async () => {
        const res = await list([['filter[lines][eq]', 'x']], 'invoices');
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([
          {
            field: 'filter[lines][eq]',
            code: 'unknown_field',
            message: 'filter[lines][eq]: "lines" is not a filterable field of invoices.',
          },
        ]);
      });

      it('refuses unknown and repeated parameters', async () => {
        const unknown = await list([['colour', 'red']]);
        expect(unknown.status).toBe(400);
        expect(unknown.body.errors).toEqual([
          {
            field: 'colour',
            code: 'unknown_parameter',
            message: 'Unknown query parameter "colour". Use filter[field][op], sort, limit, cursor, fields, q or archived.',
          },
        ]);
        const twice = await list([
          ['limit', '1'],
          ['limit', '2'],
        ]);
        expect(twice.status).toBe(400);
        expect(twice.body.errors).toEqual([{ field: 'limit', code: 'duplicate_parameter', message: '"limit" is given more than once.' }]);
      });
    });
  });

  describe('sort', () => {
    const S = 'sort';
    beforeAll(async () => {
      // Created in this order, so `number` follows it.
      await gizmo(S, { name: 'kilo', qty: 10, code: '10', active: true, due: '2024-05-01' });
      await gizmo(S, { name: 'echo', qty: 9, code: '9', active: false, due: '2024-01-01' });
      await gizmo(S, { name: 'alpha' });
      await gizmo(S, { name: 'lima', qty: 100, code: '100', active: true, due: '2023-01-01' });
      await gizmo(S, { name: 'bravo', qty: 9, code: '9', active: false });
    });

    describe('succeeds', () => {
      const cases: Array<[string, string[]]> = [
        ['name', ['alpha', 'bravo', 'echo', 'kilo', 'lima']],
        ['-name', ['lima', 'kilo', 'echo', 'bravo', 'alpha']],
        // Numbers sort as numbers (9 < 10 < 100); empty values last ascending, first descending.
        ['qty,name', ['bravo', 'echo', 'kilo', 'lima', 'alpha']],
        ['-qty,name', ['alpha', 'lima', 'kilo', 'bravo', 'echo']],
        ['-qty,-name', ['alpha', 'lima', 'kilo', 'echo', 'bravo']],
        // Text sorts as text: "10" < "100" < "9".
        ['code,name', ['kilo', 'lima', 'bravo', 'echo', 'alpha']],
        ['active,name', ['bravo', 'echo', 'kilo', 'lima', 'alpha']],
        ['due,name', ['lima', 'echo', 'kilo', 'alpha', 'bravo']],
        ['number', ['kilo', 'echo', 'alpha', 'lima', 'bravo']],
        ['-number', ['bravo', 'lima', 'alpha', 'echo', 'kilo']],
      ];

      it.each(cases)('sort=%s', async (sort, expected) => {
        expect(await names(S, [['sort', sort]])).toEqual(expected);
      });

      it('sorts newest first by default, and createdAt/created_at are the same key', async () => {
        const byDefault = await names(S, []);
        expect(byDefault).toEqual(await names(S, [['sort', '-createdAt']]));
        expect(byDefault).toEqual(await names(S, [['sort', '-created_at']]));
        const full = await list([
          ['filter[batch][eq]', S],
          ['fields', 'createdAt'],
        ]);
        const times = full.body.data.map((row: Row) => Date.parse(row.createdAt));
        expect(times).toEqual([...times].sort((x, y) => y - x));
        expect(await names(S, [['sort', 'createdAt']])).toEqual([...byDefault].reverse());
      });
    });

    describe('fails', () => {
      it.each([
        [
          'colour',
          'sort: "colour" is not a sortable field of gizmos; use a field name or createdAt, updatedAt, number, with "-" for descending.',
          'unknown_sort_key',
        ],
        [
          '-tags',
          'sort: "tags" is not a sortable field of gizmos; use a field name or createdAt, updatedAt, number, with "-" for descending.',
          'unknown_sort_key',
        ],
        ['name,-name', 'sort: "name" appears twice.', 'duplicate_sort_key'],
      ])('sort=%s is a 400', async (sort, message, code) => {
        const res = await list([['sort', sort]]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          type: '/problems/invalid_query',
          title: 'Bad Request',
          status: 400,
          detail: message,
          instance: '/api/v1/gizmos',
          errors: [{ field: 'sort', code, message }],
        });
      });
    });
  });

  describe('cursor pagination', () => {
    describe('succeeds', () => {
      const P = 'pages';
      const all: Row[] = [];
      beforeAll(async () => {
        // Duplicates and empty values, so pages break inside runs of equal sort values.
        const qty = [5, null, 3, 5, 1, null, 3, 5, 2, null, 1, 4, 5];
        const active = [true, false, null, true, true, false, null, false, true, null, true, false, true];
        for (let i = 0; i < qty.length; i++) {
          all.push(await gizmo(P, { name: `p${String(i).padStart(2, '0')}`, qty: qty[i] ?? undefined, active: active[i] ?? undefined }));
        }
      });

      it.each(['-createdAt', 'createdAt', 'number', '-name', 'qty', '-qty', 'qty,-name', 'active,-qty', '-active,qty', '-updatedAt'])(
        'sort=%s: walking pages of 4 returns every record exactly once, in the order of one big page',
        async (sort) => {
          const base: Params = [
            ['filter[batch][eq]', P],
            ['sort', sort],
          ];
          const whole = await list([...base, ['limit', '500']]);
          expect(whole.body.data).toHaveLength(all.length);
          expect(whole.body.page.nextCursor).toBeNull();
          const pages = await walk([...base, ['limit', '4']]);
          expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 1]);
          const walked = pages.flat().map((row) => row.id);
          expect(walked).toEqual(whole.body.data.map((row: Row) => row.id));
          expect(new Set(walked)).toEqual(new Set(all.map((row) => row.id)));
        },
      );

      it('a page that exactly fills the limit still says whether more follow', async () => {
        const pages = await walk([
          ['filter[batch][eq]', P],
          ['limit', '13'],
        ]);
        expect(pages.map((p) => p.length)).toEqual([13]);
      });

      it('cursors work with a projection that leaves out the sort key', async () => {
        const pages = await walk([
          ['filter[batch][eq]', P],
          ['sort', '-qty'],
          ['fields', 'name'],
          ['limit', '5'],
        ]);
        expect(pages.flat()).toHaveLength(all.length);
        for (const row of pages.flat()) expect(Object.keys(row).sort()).toEqual(['id', 'name']);
      });

      it('is stable under inserts (newest first): records created while paging neither appear nor shift pages', async () => {
        const batch = 'insert-newest';
        for (let i = 0; i < 8; i++) await gizmo(batch, { name: `n${i}` });
        const base: Params = [
          ['filter[batch][eq]', batch],
          ['limit', '3'],
        ];
        const before = await walk(base);
        let added = 0;
        const during = await walk(base, async () => {
          await gizmo(batch, { name: `late${added++}` });
        });
        expect(during.map((page) => page.map((row) => row.id))).toEqual(before.map((page) => page.map((row) => row.id)));
      });

      it('is stable under inserts (by name): earlier names are skipped, later ones come once, pages do not shift', async () => {
        const batch = 'insert-by-name';
        for (let i = 10; i < 18; i++) await gizmo(batch, { name: `m${i}` });
        const base: Params = [
          ['filter[batch][eq]', batch],
          ['sort', 'name'],
          ['limit', '3'],
        ];
        const before = await walk(base);
        expect(before.map((page) => page.map((row) => row.name))).toEqual([
          ['m10', 'm11', 'm12'],
          ['m13', 'm14', 'm15'],
          ['m16', 'm17'],
        ]);
        const during = await walk(base, async (i) => {
          await gizmo(batch, { name: `a-before-${i}` }); // sorts before every page already read
          await gizmo(batch, { name: `z-after-${i}` }); // sorts after everything
        });
        const seen = during.flat().map((row) => row.name);
        expect(new Set(seen).size).toBe(seen.length);
        // The originals come on the same pages as before, in the same order...
        expect(during.slice(0, 3).map((page) => page.map((row) => row.name).filter((n) => /^m\d\d$/.test(n)))).toEqual([
          ['m10', 'm11', 'm12'],
          ['m13', 'm14', 'm15'],
          ['m16', 'm17'],
        ]);
        // ...records inserted behind the cursor never appear, those ahead of it appear once each, in order.
        expect(seen.filter((n) => n.startsWith('a-'))).toEqual([]);
        const inserted = during.length - 1;
        expect(seen.filter((n) => n.startsWith('z-'))).toEqual(Array.from({ length: inserted }, (_, i) => `z-after-${i}`));
      });
    });

    describe('fails', () => {
      let cursor: string;
      beforeAll(async () => {
        await gizmo('cursor-fails', { name: 'one' });
        await gizmo('cursor-fails', { name: 'two' });
        const first = await list([
          ['filter[batch][eq]', 'cursor-fails'],
          ['sort', 'name'],
          ['limit', '1'],
        ]);
        cursor = first.body.page.nextCursor;
        expect(cursor).toEqual(expect.any(String));
      });

      const invalidCursor = (why: string) => ({
        type: '/problems/invalid_cursor',
        title: 'Bad Request',
        status: 400,
        detail: `The cursor is not valid: ${why}. Start again without a cursor.`,
        instance: '/api/v1/gizmos',
        errors: [{ field: 'cursor', code: 'invalid_cursor', message: why }],
      });

      it('refuses a cursor reused with a different sort', async () => {
        const other = await list([
          ['sort', '-name'],
          ['cursor', cursor],
        ]);
        expect(other.status).toBe(400);
        expect(other.body).toEqual(invalidCursor('it was made for sort "name", not "-name"'));
        const byDefault = await list([['cursor', cursor]]);
        expect(byDefault.body).toEqual(invalidCursor('it was made for sort "name", not "-createdAt"'));
      });

      it('refuses a cursor that is not one, or was tampered with', async () => {
        expect((await list([['cursor', 'not a cursor']])).body).toEqual(invalidCursor('it could not be decoded'));
        const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        expect(decoded).toEqual({ s: 'name', v: ['one'], id: expect.any(String) });
        for (const forged of [
          { ...decoded, v: [] },
          { ...decoded, v: ['one', 'two'] },
          { ...decoded, id: 'not-a-uuid' },
          { ...decoded, v: [{ $gt: '' }] },
          { s: '-createdAt', v: ['yesterday'], id: decoded.id },
          { s: '-createdAt', v: [null], id: decoded.id },
          { s: 'qty', v: ['1 OR 1=1'], id: decoded.id },
        ]) {
          const sort = forged.s === '-createdAt' ? [] : ([['sort', forged.s]] as Params);
          const res = await list([...sort, ['cursor', forge(forged)]]);
          expect(res.body).toEqual(invalidCursor('it is malformed'));
        }
      });
    });
  });

  describe('projection, search, limit, archived', () => {
    describe('succeeds', () => {
      it('fields= returns the id and only the fields asked for, system fields included', async () => {
        const row = await gizmo('fields', { name: 'projected', qty: 7, notes: 'hidden' });
        const res = await list([
          ['filter[batch][eq]', 'fields'],
          ['fields', 'name,qty'],
        ]);
        expect(res.body.data).toEqual([{ id: row.id, name: 'projected', qty: 7 }]);
        const system = await list([
          ['filter[batch][eq]', 'fields'],
          ['fields', 'number, version,createdAt'],
        ]);
        expect(system.body.data).toEqual([{ id: row.id, number: row.number, version: 1, createdAt: row.createdAt }]);
        const everything = await list([
          ['filter[batch][eq]', 'fields'],
          ['fields', ''],
        ]);
        expect(everything.body.data).toEqual([row]);
      });

      it('q= searches the number and text fields, case-insensitively and literally', async () => {
        const zebra = await gizmo('search', { name: 'Zebra crossing', notes: 'the quick brown fox' });
        const other = await gizmo('search', { name: 'Plain', kind: 'alpha' });
        const search = async (q: string) =>
          (
            await list([
              ['filter[batch][eq]', 'search'],
              ['q', q],
              ['fields', 'name'],
            ])
          ).body.data.map((row: Row) => row.name);
        expect(await search('ZEBRA')).toEqual(['Zebra crossing']);
        expect(await search('brown FOX')).toEqual(['Zebra crossing']);
        expect(await search(zebra.number)).toEqual(['Zebra crossing']);
        expect(await search(other.number)).toEqual(['Plain']);
        expect(await search('%')).toEqual([]);
        expect(await search('_')).toEqual([]);
        expect(await search('alpha')).toEqual([]); // picklist values are not searched
        expect((await search('')).sort()).toEqual(['Plain', 'Zebra crossing']);
      });

      it('limit defaults to 50 and goes up to 500', async () => {
        for (let i = 0; i < 51; i++) await gizmo('limits', { name: `l${i}` });
        const base: Params = [['filter[batch][eq]', 'limits']];
        const byDefault = await list(base);
        expect(byDefault.body.data).toHaveLength(50);
        expect(byDefault.body.page).toEqual({ limit: 50, nextCursor: expect.any(String) });
        const max = await list([...base, ['limit', '500']]);
        expect(max.body.data).toHaveLength(51);
        expect(max.body.page).toEqual({ limit: 500, nextCursor: null });
        const one = await list([...base, ['limit', '1']]);
        expect(one.body.data).toHaveLength(1);
        expect(one.body.page).toEqual({ limit: 1, nextCursor: expect.any(String) });
      });

      it('archived=exclude (default), include and only', async () => {
        const kept = await gizmo('archive', { name: 'kept' });
        const gone = await gizmo('archive', { name: 'gone' });
        expect((await t.http.post(`/api/v1/gizmos/${gone.id}/archive`).set('Authorization', t.auth)).status).toBe(200);
        expect(await names('archive', [])).toEqual([kept.name]);
        expect(await names('archive', [['archived', 'exclude']])).toEqual([kept.name]);
        expect((await names('archive', [['archived', 'include']])).sort()).toEqual(['gone', 'kept']);
        expect(await names('archive', [['archived', 'only']])).toEqual(['gone']);
      });
    });

    describe('fails', () => {
      const problem = (field: string, code: string, message: string) => ({
        type: '/problems/invalid_query',
        title: 'Bad Request',
        status: 400,
        detail: message,
        instance: '/api/v1/gizmos',
        errors: [{ field, code, message }],
      });

      it('refuses unknown fields in fields=', async () => {
        const res = await list([['fields', 'name,colour']]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(problem('fields', 'unknown_field', 'fields: "colour" is not a field of gizmos.'));
      });

      it('refuses a q longer than 200 characters', async () => {
        const res = await list([['q', 'q'.repeat(201)]]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(problem('q', 'too_long', 'q may be at most 200 characters.'));
      });

      it.each(['0', '501', '-1', 'abc', '1.5', '1e2', '', '99999'])('refuses limit=%s', async (limit) => {
        const res = await list([['limit', limit]]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(problem('limit', 'invalid_value', 'limit must be an integer from 1 to 500.'));
      });

      it('refuses an unknown archived value', async () => {
        const res = await list([['archived', 'yes']]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(problem('archived', 'invalid_value', 'archived must be exclude, include or only.'));
      });
    });
  });
});
