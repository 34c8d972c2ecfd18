import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { FIELD_TYPES } from '../metadata/metadata.types';
import { buildRecordSchema, fieldValueSchema, type RecordSchemaMode } from './record-schema.builder';

/** A module with one field of every type, plus lines covering the row rules. */
function fixtureModule(): ModuleDefinition {
  return {
    name: 'invoices',
    label: { en: 'Invoice', sv: 'Faktura' },
    fields: {
      subject: { type: 'text', required: true, maxLength: 20, label: { en: 'Subject' } },
      notes: { type: 'textarea' },
      body: { type: 'richtext', maxLength: 50 },
      quantity: { type: 'integer', min: 0, max: 1000 },
      amount: { type: 'decimal' },
      total: { type: 'currency' },
      discount: { type: 'percent', min: 0, max: 100 },
      paid: { type: 'boolean' },
      due_date: { type: 'date' },
      sent_at: { type: 'datetime' },
      email: { type: 'email' },
      phone: { type: 'phone' },
      website: { type: 'url' },
      status: { type: 'picklist', options: ['draft', 'sent', 'paid'], required: true, default: 'draft' },
      tags: { type: 'multipicklist', options: ['a', 'b', 'c'] },
      account: { type: 'relation', module: 'accounts', required: true },
      lines: {
        type: 'lines',
        fields: {
          product: { type: 'relation', module: 'products', required: true },
          quantity: { type: 'decimal', required: true },
          price: { type: 'currency' },
          description: { type: 'text', maxLength: 10 },
        },
      },
      invoice_no: { type: 'autonumber', prefix: 'INV-', padding: 5 },
      handler: { type: 'user' },
    },
  };
}

const ACCOUNT_ID = '6f1c1d3e-4b7a-4f7e-9a51-0c2f3a1b2c3d';
const PRODUCT_ID = '0b8e7a2c-9d41-4e3f-8a6b-1c2d3e4f5a6b';

function goodRecord(): Record<string, unknown> {
  return {
    subject: 'Consulting',
    notes: 'Long text\nwith lines',
    body: '<p>Hi</p>',
    quantity: 3,
    amount: 1234.56,
    total: -99.5,
    discount: 12.5,
    paid: false,
    due_date: '2025-02-28',
    sent_at: '2025-02-01T10:15:00Z',
    email: 'anna@example.se',
    phone: '+46 (0)8-123 45.67',
    website: 'https://example.se/path?q=1',
    status: 'sent',
    tags: ['a', 'c'],
    account: ACCOUNT_ID,
    lines: [
      { product: PRODUCT_ID, quantity: 2, price: 100, description: 'Hours' },
      { product: PRODUCT_ID, quantity: 0.5, price: null },
    ],
    handler: 'user-42',
  };
}

function compile(mode: RecordSchemaMode, module = fixtureModule()): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(buildRecordSchema(module, mode));
}

/** Validates and returns the failing instance paths (with keywords), for precise assertions. */
function errorsOf(validate: ValidateFunction, data: unknown): string[] {
  validate(data);
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.keyword}`);
}

describe('buildRecordSchema', () => {
  const create = compile('create');
  const update = compile('update');

  it('covers every field type in the fixture', () => {
    const types = new Set(Object.values(fixtureModule().fields).map((f) => f.type));
    expect([...FIELD_TYPES].filter((t) => !types.has(t))).toEqual([]);
  });

  it('accepts a good record on create, and a minimal one', () => {
    expect(errorsOf(create, goodRecord())).toEqual([]);
    expect(errorsOf(create, { subject: 'x', account: ACCOUNT_ID })).toEqual([]);
  });

  it('requires required fields without default on create, not those with a default', () => {
    expect(buildRecordSchema(fixtureModule(), 'create').required).toEqual(['subject', 'account']);
    expect(errorsOf(create, { subject: 'x' })).toEqual(['/ required']);
  });

  it('accepts null for non-required fields, not for required ones', () => {
    const nulls = Object.fromEntries(Object.keys(goodRecord()).map((k) => [k, null]));
    expect(errorsOf(create, { ...nulls, subject: 'x', account: ACCOUNT_ID, status: 'draft' })).toEqual([]);
    expect(errorsOf(create, { subject: null, account: ACCOUNT_ID })).toEqual(['/subject type']);
    expect(errorsOf(update, { status: null })).toEqual(['/status type', '/status enum']);
    expect(errorsOf(update, { account: null, notes: null })).toEqual(['/account type']);
  });

  it('rejects unknown fields and the engine-assigned autonumber', () => {
    expect(errorsOf(create, { ...goodRecord(), colour: 'red' })).toEqual(['/ additionalProperties']);
    expect(errorsOf(update, { invoice_no: 'INV-00001' })).toEqual(['/ additionalProperties']);
    expect(errorsOf(update, { id: ACCOUNT_ID })).toEqual(['/ additionalProperties']);
  });

  it('rejects wrong types', () => {
    const bad = { subject: 1, quantity: '3', amount: '1.5', paid: 'yes', tags: 'a', lines: {}, handler: 7 };
    expect(errorsOf(update, bad).sort()).toEqual(
      ['/amount type', '/handler type', '/lines type', '/paid type', '/quantity type', '/subject type', '/tags type'].sort(),
    );
    expect(errorsOf(update, { quantity: 1.5 })).toEqual(['/quantity type']);
  });

  it('rejects over-long strings against field and default limits', () => {
    expect(errorsOf(update, { subject: 'x'.repeat(20) })).toEqual([]);
    expect(errorsOf(update, { subject: 'x'.repeat(21) })).toEqual(['/subject maxLength']);
    expect(errorsOf(update, { body: 'x'.repeat(51) })).toEqual(['/body maxLength']);
    expect(errorsOf(update, { notes: 'x'.repeat(10_001) })).toEqual(['/notes maxLength']);
    expect(errorsOf(update, { handler: 'x'.repeat(101) })).toEqual(['/handler maxLength']);
    expect(errorsOf(update, { email: `${'a'.repeat(250)}@x.se` })).toEqual(['/email maxLength']);
  });

  it('rejects huge and out-of-range numbers', () => {
    expect(errorsOf(update, { amount: 1e300 })).toEqual(['/amount maximum']);
    expect(errorsOf(update, { total: -1e16 })).toEqual(['/total minimum']);
    // JSON.parse turns 1e400 into Infinity; it must fail, not be stored.
    expect(errorsOf(update, JSON.parse('{"amount": 1e400}'))).not.toEqual([]);
    expect(errorsOf(update, { quantity: 1001 })).toEqual(['/quantity maximum']);
    expect(errorsOf(update, { discount: -1 })).toEqual(['/discount minimum']);
    expect(errorsOf(update, { quantity: 2 ** 60 })).not.toEqual([]);
  });

  it('rejects picklist and multipicklist values outside the options', () => {
    expect(errorsOf(update, { status: 'void' })).toEqual(['/status enum']);
    expect(errorsOf(update, { tags: ['a', 'x'] })).toEqual(['/tags/1 enum']);
    expect(errorsOf(update, { tags: ['a', 'a'] })).toEqual(['/tags uniqueItems']);
    expect(errorsOf(update, { tags: [] })).toEqual([]);
  });

  it('rejects malformed formats', () => {
    expect(errorsOf(update, { account: 'not-a-uuid' })).toEqual(['/account format']);
    expect(errorsOf(update, { email: 'anna' })).toEqual(['/email format']);
    expect(errorsOf(update, { phone: 'call me' })).toEqual(['/phone pattern']);
    expect(errorsOf(update, { phone: '---' })).toEqual(['/phone pattern']);
    expect(errorsOf(update, { website: 'ftp://example.se' })).toEqual(['/website pattern']);
    expect(errorsOf(update, { website: 'javascript:alert(1)' })).toEqual(['/website pattern']);
    expect(errorsOf(update, { due_date: '2025-02-30' })).toEqual(['/due_date format']);
    expect(errorsOf(update, { sent_at: '2025-02-01' })).toEqual(['/sent_at format']);
  });

  it('rejects bad line rows', () => {
    const row = { product: PRODUCT_ID, quantity: 1 };
    expect(errorsOf(update, { lines: [row] })).toEqual([]);
    expect(errorsOf(update, { lines: [{ ...row, colour: 'red' }] })).toEqual(['/lines/0 additionalProperties']);
    expect(errorsOf(update, { lines: [row, { quantity: 1 }] })).toEqual(['/lines/1 required']);
    expect(errorsOf(update, { lines: [{ ...row, product: 'x' }] })).toEqual(['/lines/0/product format']);
    expect(errorsOf(update, { lines: [{ ...row, quantity: null }] })).toEqual(['/lines/0/quantity type']);
    expect(errorsOf(update, { lines: [{ ...row, description: 'x'.repeat(11) }] })).toEqual(['/lines/0/description maxLength']);
    expect(errorsOf(update, { lines: ['row'] })).toEqual(['/lines/0 type']);
    expect(errorsOf(update, { lines: Array.from({ length: 501 }, () => row) })).toEqual(['/lines maxItems']);
  });

  it('accepts an empty patch on update and requires nothing', () => {
    expect(errorsOf(update, {})).toEqual([]);
    expect(buildRecordSchema(fixtureModule(), 'update').required).toBeUndefined();
  });

  it('puts the English label, else the field name, in each title', () => {
    const schema = buildRecordSchema(fixtureModule(), 'create');
    expect(schema.title).toBe('Invoice');
    expect(schema.properties?.subject.title).toBe('Subject');
    expect(schema.properties?.due_date.title).toBe('due_date');
  });

  it('describes output records with system properties, autonumber and nullable fields', () => {
    const output = compile('output');
    const record = {
      id: ACCOUNT_ID,
      number: 'INV-00001',
      module: 'invoices',
      version: 3,
      owner: null,
      createdBy: 'user-1',
      createdAt: '2025-02-01T10:15:00.000Z',
      updatedAt: '2025-02-02T10:15:00.000Z',
      archivedAt: null,
      ...goodRecord(),
      subject: null,
      invoice_no: 'INV-00001',
      lines: [{ product: PRODUCT_ID, quantity: 1, price: 10, extra: 1 }],
    };
    expect(errorsOf(output, record)).toEqual([]);
    expect(errorsOf(output, { ...record, module: 'accounts' })).toEqual(['/module const']);
    expect(errorsOf(output, { ...record, version: '3' })).toEqual(['/version type']);
    expect(buildRecordSchema(fixtureModule(), 'output').additionalProperties).toBeUndefined();
  });

  it('keeps a picklist without options ajv-strict compatible', () => {
    const module: ModuleDefinition = {
      name: 'x',
      label: { en: 'X' },
      fields: { p: { type: 'picklist', options: [] }, m: { type: 'multipicklist' } },
    };
    const validate = compile('create', module);
    expect(errorsOf(validate, { p: null, m: [] })).toEqual([]);
    expect(errorsOf(validate, { p: 'a' })).not.toEqual([]);
    expect(errorsOf(validate, { m: ['a'] })).not.toEqual([]);
  });

  it('exposes the value schema of one field', () => {
    expect(fieldValueSchema({ type: 'relation', module: 'accounts' })).toEqual({ type: 'string', format: 'uuid' });
    expect(fieldValueSchema({ type: 'text', maxLength: 5 })).toEqual({ type: 'string', maxLength: 5 });
  });
});
