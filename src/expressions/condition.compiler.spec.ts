import type { ModuleDefinition } from '../metadata/metadata.types';
import { compileCondition, validateCondition, type Condition } from './condition.compiler';
import { ExpressionEvaluationError } from './jsonata.runner';

const NOW = new Date('2025-06-15T12:00:00Z');

function invoiceModule(): ModuleDefinition {
  return {
    name: 'invoices',
    label: { en: 'Invoice' },
    fields: {
      subject: { type: 'text' },
      email: { type: 'email' },
      status: { type: 'picklist', options: ['draft', 'sent', 'paid', 'credited'] },
      tags: { type: 'multipicklist', options: ['vip', 'export', 'rush'] },
      total: { type: 'currency' },
      quantity: { type: 'integer' },
      paid: { type: 'boolean' },
      due_date: { type: 'date' },
      sent_at: { type: 'datetime' },
      account: { type: 'relation', module: 'accounts' },
      lines: { type: 'lines', fields: { price: { type: 'currency' } } },
    },
  };
}

const invoices = invoiceModule();

async function holds(condition: Condition, record: Record<string, unknown>, old?: Record<string, unknown> | null): Promise<boolean> {
  return compileCondition(condition, invoices).evaluate({ record, old, now: NOW, user: { id: 'u1', name: 'Ada' } });
}

type Case = [string, Condition, Record<string, unknown>, boolean];

describe('compileCondition', () => {
  const cases: Case[] = [
    // text: eq is exact, contains/startsWith ignore case, order is by code unit
    ['text eq', { field: 'subject', op: 'eq', value: 'Hello' }, { subject: 'Hello' }, true],
    ['text eq is case-sensitive', { field: 'subject', op: 'eq', value: 'hello' }, { subject: 'Hello' }, false],
    ['text ne', { field: 'subject', op: 'ne', value: 'x' }, { subject: 'y' }, true],
    ['text ne on empty', { field: 'subject', op: 'ne', value: 'x' }, {}, true],
    ['text eq on empty', { field: 'subject', op: 'eq', value: 'x' }, { subject: '' }, false],
    ['text contains', { field: 'subject', op: 'contains', value: 'WORLD' }, { subject: 'hello world' }, true],
    ['text contains misses', { field: 'subject', op: 'contains', value: 'moon' }, { subject: 'hello world' }, false],
    ['text contains on empty', { field: 'subject', op: 'contains', value: 'a' }, { subject: null }, false],
    ['text startsWith', { field: 'email', op: 'startsWith', value: 'ADA@' }, { email: 'ada@example.com' }, true],
    ['text startsWith misses', { field: 'email', op: 'startsWith', value: 'bob' }, { email: 'ada@example.com' }, false],
    ['text gt', { field: 'subject', op: 'gt', value: 'b' }, { subject: 'c' }, true],
    ['text lte', { field: 'subject', op: 'lte', value: 'b' }, { subject: 'c' }, false],
    ['text in', { field: 'subject', op: 'in', value: ['a', 'b'] }, { subject: 'b' }, true],
    ['text nin', { field: 'subject', op: 'nin', value: ['a', 'b'] }, { subject: 'c' }, true],
    ['text nin on empty', { field: 'subject', op: 'nin', value: ['a'] }, {}, true],
    ['text in on empty', { field: 'subject', op: 'in', value: ['a'] }, {}, false],
    // numbers compare numerically, also when a decimal arrives as a string
    ['number eq', { field: 'total', op: 'eq', value: 10 }, { total: 10 }, true],
    ['number eq decimal string', { field: 'total', op: 'eq', value: 10.5 }, { total: '10.50' }, true],
    ['number gt', { field: 'total', op: 'gt', value: 9 }, { total: 10 }, true],
    ['number gt is numeric, not text', { field: 'total', op: 'gt', value: 9 }, { total: '10' }, true],
    ['number gte', { field: 'quantity', op: 'gte', value: 3 }, { quantity: 3 }, true],
    ['number lt', { field: 'quantity', op: 'lt', value: 3 }, { quantity: 3 }, false],
    ['number lte', { field: 'quantity', op: 'lte', value: 3 }, { quantity: 2 }, true],
    ['number lt on empty', { field: 'quantity', op: 'lt', value: 3 }, { quantity: null }, false],
    ['number gt on a word', { field: 'total', op: 'gt', value: 1 }, { total: 'lots' }, false],
    ['number in', { field: 'quantity', op: 'in', value: [1, 2, 3] }, { quantity: 2 }, true],
    ['number nin', { field: 'quantity', op: 'nin', value: [1, 2, 3] }, { quantity: 2 }, false],
    ['zero is not empty', { field: 'total', op: 'notEmpty' }, { total: 0 }, true],
    // dates as YYYY-MM-DD, datetimes as instants
    ['date eq', { field: 'due_date', op: 'eq', value: '2025-06-30' }, { due_date: '2025-06-30' }, true],
    ['date lt', { field: 'due_date', op: 'lt', value: '2025-07-01' }, { due_date: '2025-06-30' }, true],
    ['date gt', { field: 'due_date', op: 'gt', value: '2025-07-01' }, { due_date: '2025-06-30' }, false],
    [
      'datetime eq across offsets',
      { field: 'sent_at', op: 'eq', value: '2025-06-15T14:00:00+02:00' },
      { sent_at: '2025-06-15T12:00:00.000Z' },
      true,
    ],
    [
      'datetime gt as instants',
      { field: 'sent_at', op: 'gt', value: '2025-06-15T13:00:00+02:00' },
      { sent_at: '2025-06-15T12:00:00Z' },
      true,
    ],
    ['datetime lt a date', { field: 'sent_at', op: 'lt', value: '2025-06-16' }, { sent_at: '2025-06-15T23:59:59Z' }, true],
    ['datetime gte on empty', { field: 'sent_at', op: 'gte', value: '2025-01-01' }, {}, false],
    // booleans: unset is empty, not false
    ['boolean eq true', { field: 'paid', op: 'eq', value: true }, { paid: true }, true],
    ['boolean eq false', { field: 'paid', op: 'eq', value: false }, { paid: false }, true],
    ['boolean eq false on unset', { field: 'paid', op: 'eq', value: false }, {}, false],
    ['boolean ne true on unset', { field: 'paid', op: 'ne', value: true }, {}, true],
    // picklists
    ['picklist eq', { field: 'status', op: 'eq', value: 'sent' }, { status: 'sent' }, true],
    ['picklist in', { field: 'status', op: 'in', value: ['paid', 'credited'] }, { status: 'sent' }, false],
    ['picklist nin', { field: 'status', op: 'nin', value: ['paid', 'credited'] }, { status: 'sent' }, true],
    // multipicklists: eq is the same set, contains has the option, in has any of them
    ['multipicklist eq same set', { field: 'tags', op: 'eq', value: ['rush', 'vip'] }, { tags: ['vip', 'rush'] }, true],
    ['multipicklist eq subset', { field: 'tags', op: 'eq', value: ['vip'] }, { tags: ['vip', 'rush'] }, false],
    ['multipicklist ne', { field: 'tags', op: 'ne', value: ['vip'] }, { tags: ['vip', 'rush'] }, true],
    ['multipicklist contains', { field: 'tags', op: 'contains', value: 'rush' }, { tags: ['vip', 'rush'] }, true],
    ['multipicklist contains misses', { field: 'tags', op: 'contains', value: 'export' }, { tags: ['vip', 'rush'] }, false],
    ['multipicklist in', { field: 'tags', op: 'in', value: ['export', 'rush'] }, { tags: ['vip', 'rush'] }, true],
    ['multipicklist nin', { field: 'tags', op: 'nin', value: ['export'] }, { tags: ['vip', 'rush'] }, true],
    ['multipicklist empty', { field: 'tags', op: 'empty' }, { tags: [] }, true],
    // relations compare ids, whether stored as an id or as an expanded record
    ['relation eq id', { field: 'account', op: 'eq', value: 'a-1' }, { account: 'a-1' }, true],
    ['relation eq expanded', { field: 'account', op: 'eq', value: 'a-1' }, { account: { id: 'a-1', name: 'Acme' } }, true],
    ['relation in', { field: 'account', op: 'in', value: ['a-2', 'a-3'] }, { account: 'a-1' }, false],
    // empty / notEmpty
    ['empty on missing', { field: 'subject', op: 'empty' }, {}, true],
    ['empty on null', { field: 'subject', op: 'empty' }, { subject: null }, true],
    ['empty on ""', { field: 'subject', op: 'empty' }, { subject: '' }, true],
    ['notEmpty', { field: 'subject', op: 'notEmpty' }, { subject: 'x' }, true],
    ['lines notEmpty', { field: 'lines', op: 'notEmpty' }, { lines: [{ price: 1 }] }, true],
    ['lines empty', { field: 'lines', op: 'empty' }, { lines: [] }, true],
    [
      'inherited names are not values',
      { field: 'subject', op: 'empty' },
      Object.create({ subject: 'inherited' }) as Record<string, unknown>,
      true,
    ],
  ];

  it.each(cases)('%s', async (_name, condition, record, expected) => {
    await expect(holds(condition, record)).resolves.toBe(expected);
  });

  describe('nesting', () => {
    const sentAndBig: Condition = {
      all: [
        { field: 'status', op: 'eq', value: 'sent' },
        {
          any: [
            { field: 'total', op: 'gt', value: 1000 },
            { field: 'tags', op: 'contains', value: 'vip' },
          ],
        },
      ],
    };
    it.each<[Record<string, unknown>, boolean]>([
      [{ status: 'sent', total: 5000 }, true],
      [{ status: 'sent', total: 5, tags: ['vip'] }, true],
      [{ status: 'sent', total: 5 }, false],
      [{ status: 'draft', total: 5000 }, false],
    ])('all/any on %j is %s', async (record, expected) => {
      await expect(holds(sentAndBig, record)).resolves.toBe(expected);
      await expect(holds({ not: sentAndBig }, record)).resolves.toBe(!expected);
    });
  });

  describe('changed and changedTo', () => {
    const changed: Condition = { field: 'status', op: 'changed' };
    const toSent: Condition = { field: 'status', op: 'changedTo', value: 'sent' };
    it.each<[string, Condition, Record<string, unknown>, Record<string, unknown> | null, boolean]>([
      ['create with a value', changed, { status: 'draft' }, null, true],
      ['create without a value', changed, {}, null, false],
      ['update to another value', changed, { status: 'sent' }, { status: 'draft' }, true],
      ['update keeping the value', changed, { status: 'sent' }, { status: 'sent' }, false],
      ['update from null to missing', changed, {}, { status: null }, false],
      ['update clearing the value', changed, { status: null }, { status: 'sent' }, true],
      ['changedTo on create', toSent, { status: 'sent' }, null, true],
      ['changedTo on update', toSent, { status: 'sent' }, { status: 'draft' }, true],
      ['changedTo when already sent', toSent, { status: 'sent' }, { status: 'sent' }, false],
      ['changedTo another value', toSent, { status: 'paid' }, { status: 'draft' }, false],
      [
        'datetime same instant in another notation',
        { field: 'sent_at', op: 'changed' },
        { sent_at: '2025-06-15T14:00:00+02:00' },
        { sent_at: '2025-06-15T12:00:00Z' },
        false,
      ],
      ['multipicklist reordered', { field: 'tags', op: 'changed' }, { tags: ['rush', 'vip'] }, { tags: ['vip', 'rush'] }, false],
      [
        'lines deep-equal with other key order',
        { field: 'lines', op: 'changed' },
        { lines: [{ a: 1, b: 2 }] },
        { lines: [{ b: 2, a: 1 }] },
        false,
      ],
      ['lines with a changed price', { field: 'lines', op: 'changed' }, { lines: [{ price: 2 }] }, { lines: [{ price: 1 }] }, true],
    ])('%s', async (_name, condition, record, old, expected) => {
      await expect(holds(condition, record, old)).resolves.toBe(expected);
    });
  });

  describe('expression conditions', () => {
    it('evaluate with the record as input and $record, $old, $now and $user bound', async () => {
      await expect(holds({ expression: 'total > 100 and $record.status = "sent"' }, { total: 150, status: 'sent' })).resolves.toBe(true);
      await expect(holds({ expression: '$old.total < total' }, { total: 2 }, { total: 1 })).resolves.toBe(true);
      await expect(holds({ expression: '$exists($old)' }, { total: 2 }, null)).resolves.toBe(false);
      await expect(holds({ expression: 'due_date < $substring($now(), 0, 10)' }, { due_date: '2025-06-14' })).resolves.toBe(true);
      await expect(holds({ expression: '$user.name = "Ada"' }, {})).resolves.toBe(true);
    });

    it('use jsonata truthiness', async () => {
      await expect(holds({ expression: 'subject' }, { subject: '' })).resolves.toBe(false);
      await expect(holds({ expression: 'lines' }, { lines: [{ price: 1 }] })).resolves.toBe(true);
      await expect(holds({ expression: 'total' }, { total: 0 })).resolves.toBe(false);
      await expect(holds({ expression: 'missing_field' }, {})).resolves.toBe(false);
    });

    it('run after the field conditions beside them, so they are skipped when those decide', async () => {
      const failing: Condition = { expression: '$number("not a number")' };
      await expect(holds({ all: [failing, { field: 'status', op: 'eq', value: 'paid' }] }, { status: 'sent' })).resolves.toBe(false);
      await expect(holds({ any: [failing, { field: 'status', op: 'eq', value: 'sent' }] }, { status: 'sent' })).resolves.toBe(true);
      await expect(holds({ all: [failing, { field: 'status', op: 'eq', value: 'sent' }] }, { status: 'sent' })).rejects.toBeInstanceOf(
        ExpressionEvaluationError,
      );
    });
  });

  it('lists the fields it reads', () => {
    const compiled = compileCondition(
      {
        all: [{ field: 'status', op: 'eq', value: 'sent' }, { not: { expression: '$sum(lines.price) > total and $old.status = status' } }],
      },
      invoices,
    );
    expect(compiled.reads).toEqual(['status', 'lines', 'total']);
  });

  it('evaluates field conditions in a few microseconds', async () => {
    const conditions = Array.from({ length: 20 }, (_, i) =>
      compileCondition(
        {
          all: [
            { field: 'status', op: 'in', value: ['sent', 'paid'] },
            { field: 'total', op: 'gt', value: i },
            { field: 'tags', op: 'contains', value: 'vip' },
          ],
        },
        invoices,
      ),
    );
    const scope = { record: { status: 'sent', total: 100, tags: ['vip'] }, old: { status: 'draft' }, now: NOW };
    for (const condition of conditions) await condition.evaluate(scope); // warm up
    const rounds = 2000;
    const started = process.hrtime.bigint();
    for (let round = 0; round < rounds; round++) for (const condition of conditions) await condition.evaluate(scope);
    const microsEach = Number(process.hrtime.bigint() - started) / 1000 / (rounds * conditions.length);
    expect(microsEach).toBeLessThan(20); // typically well under 1 µs; generous for slow CI machines
  });
});

describe('validateCondition', () => {
  const OPS = 'eq, ne, gt, gte, lt, lte, in, nin, contains, startsWith, empty, notEmpty, changed, changedTo';
  const check = (condition: unknown) => validateCondition(condition, invoices, '/0/when');

  it('accepts valid conditions of every kind', () => {
    const valid: unknown[] = [
      { all: [{ field: 'status', op: 'eq', value: 'sent' }, { not: { field: 'paid', op: 'eq', value: true } }] },
      { any: [{ field: 'total', op: 'gte', value: 10 }, { expression: 'quantity > 2 and id != ""' }] },
      { field: 'tags', op: 'eq', value: ['vip', 'rush'] },
      { field: 'tags', op: 'contains', value: 'vip' },
      { field: 'status', op: 'in', value: ['sent', 'paid'] },
      { field: 'due_date', op: 'lt', value: '2025-02-28' },
      { field: 'sent_at', op: 'gt', value: '2025-02-28T10:00:00+01:00' },
      { field: 'lines', op: 'changed' },
      { field: 'status', op: 'changedTo', value: 'paid' },
      { field: 'subject', op: 'startsWith', value: 'Re:' },
    ];
    for (const condition of valid) expect(check(condition)).toEqual([]);
  });

  it.each<[string, unknown, Array<{ pointer: string; message: string }>]>([
    [
      'unknown field',
      {
        all: [
          { field: 'status', op: 'empty' },
          { field: 'stauts', op: 'eq', value: 'sent' },
        ],
      },
      [{ pointer: '/0/when/all/1/field', message: '"stauts" is not a field of invoices (did you mean "status"?)' }],
    ],
    [
      'operator that does not fit the type',
      { field: 'paid', op: 'gt', value: true },
      [
        {
          pointer: '/0/when/op',
          message: '"gt" does not apply to paid (a boolean field); use one of eq, ne, in, nin, empty, notEmpty, changed, changedTo',
        },
      ],
    ],
    [
      'lines with a value operator',
      { field: 'lines', op: 'eq', value: 'x' },
      [{ pointer: '/0/when/op', message: '"eq" does not apply to lines (a lines field); use one of empty, notEmpty, changed' }],
    ],
    [
      'picklist value that is not an option',
      { any: [{ field: 'status', op: 'eq', value: 'snet' }] },
      [
        {
          pointer: '/0/when/any/0/value',
          message: '"snet" is not an option of status (did you mean "sent"?); options: draft, sent, paid, credited',
        },
      ],
    ],
    [
      'picklist option in a list',
      { field: 'status', op: 'nin', value: ['sent', 'void'] },
      [{ pointer: '/0/when/value/1', message: '"void" is not an option of status; options: draft, sent, paid, credited' }],
    ],
    [
      'text for a number',
      {
        all: [
          { field: 'status', op: 'empty' },
          { field: 'total', op: 'gt', value: '100' },
        ],
      },
      [{ pointer: '/0/when/all/1/value', message: 'must be a number, total is a currency field (got string "100")' }],
    ],
    [
      'a date that does not exist',
      { field: 'due_date', op: 'eq', value: '2025-02-30' },
      [{ pointer: '/0/when/value', message: 'must be a date written YYYY-MM-DD, e.g. "2025-01-31" (got string "2025-02-30")' }],
    ],
    [
      'an instant without a time zone',
      { field: 'sent_at', op: 'gt', value: '2025-02-01T10:00' },
      [
        {
          pointer: '/0/when/value',
          message:
            'must be a date (YYYY-MM-DD) or an instant with a time zone, e.g. "2025-01-31T12:00:00Z" (got string "2025-02-01T10:00")',
        },
      ],
    ],
    [
      'in without a list',
      { field: 'status', op: 'in', value: 'sent' },
      [{ pointer: '/0/when/value', message: '"in" needs a list of values, e.g. ["a", "b"] (got string "sent")' }],
    ],
    [
      'in with an empty list',
      { field: 'status', op: 'in', value: [] },
      [{ pointer: '/0/when/value', message: 'must list at least one value' }],
    ],
    ['eq without a value', { field: 'status', op: 'eq' }, [{ pointer: '/0/when', message: '"eq" needs a "value"' }]],
    [
      'empty with a value',
      { field: 'status', op: 'empty', value: 'x' },
      [{ pointer: '/0/when/value', message: '"empty" takes no value; remove "value"' }],
    ],
    [
      'a list for a single-value operator',
      { field: 'status', op: 'eq', value: ['sent'] },
      [{ pointer: '/0/when/value', message: 'must be a single value; use "in" to compare with a list' }],
    ],
    [
      'eq on a multipicklist with one option',
      { field: 'tags', op: 'eq', value: 'vip' },
      [
        {
          pointer: '/0/when/value',
          message:
            'eq on a multipicklist compares the whole selection: give a list of options such as ["vip"], or use contains to test one option',
        },
      ],
    ],
    [
      'unknown operator',
      { field: 'status', op: 'equals', value: 'sent' },
      [{ pointer: '/0/when/op', message: `unknown operator "equals"; use one of ${OPS}` }],
    ],
    [
      'misspelt operator',
      { field: 'status', op: 'nee', value: 'sent' },
      [{ pointer: '/0/when/op', message: `unknown operator "nee" (did you mean "ne"?); use one of ${OPS}` }],
    ],
    [
      'misspelt property',
      { feld: 'status', op: 'eq', value: 'sent' },
      [
        {
          pointer: '/0/when/feld',
          message:
            'unknown property "feld" (did you mean "field"?); a condition has "all", "any", "not", "field", "expression", "op", "value"',
        },
      ],
    ],
    [
      'two kinds at once',
      { all: [{ field: 'status', op: 'empty' }], field: 'total', op: 'empty' },
      [{ pointer: '/0/when', message: 'combines "all" and "field"; write them as separate conditions inside "all" or "any"' }],
    ],
    [
      'an empty object',
      { not: {} },
      [{ pointer: '/0/when/not', message: 'a condition needs one of "all", "any", "not", "field", "expression"' }],
    ],
    ['an empty all', { all: [] }, [{ pointer: '/0/when/all', message: 'must list at least one condition' }]],
    [
      'not an object',
      { any: ['status = "sent"'] },
      [{ pointer: '/0/when/any/0', message: 'must be a condition object (got string "status = \\"sent\\"")' }],
    ],
    [
      'a null value',
      { field: 'status', op: 'eq', value: null },
      [{ pointer: '/0/when/value', message: 'must be a string, a number or true/false, or a list of those (got null)' }],
    ],
    ['op without field', { op: 'empty' }, [{ pointer: '/0/when', message: '"op" belongs to a field condition; add "field"' }]],
    [
      'expression that does not parse',
      { all: [{ field: 'status', op: 'empty' }, { expression: 'total >\n  (1 +' }] },
      [{ pointer: '/0/when/all/1/expression', message: 'syntax error at line 2, column 7: Expected ")" before end of expression' }],
    ],
    [
      'expression reading an unknown field',
      { expression: 'totl > 100' },
      [{ pointer: '/0/when/expression', message: 'reads "totl", which is not a field of invoices (did you mean "total"?)' }],
    ],
  ])('reports %s', (_name, condition, problems) => {
    expect(check(condition)).toEqual(problems);
  });
});
