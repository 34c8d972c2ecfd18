import { FIELD_TYPES, type MetadataProblem } from './metadata.types';
import { findProjectRoot, readModuleFiles, type MetadataFile } from './metadata-files';
import { getModuleSchema } from './module-schema';
import { formatProblems, validateModules, validateModuleSet } from './module.validator';

/** A module file for `modules/<folder>/module.json` from a body (or raw text when testing syntax). */
function moduleFile(folder: string, body: object | string): MetadataFile {
  return {
    file: `modules/${folder}/module.json`,
    text: typeof body === 'string' ? body : JSON.stringify(body, null, 2),
  };
}

/** A minimal valid module with the given fields. */
function moduleBody(name: string, fields: Record<string, unknown>): object {
  return { name, label: { en: name, sv: name }, fields };
}

/** Validates one module (plus an accounts module to relate to) and returns the problems. */
function problemsOf(fields: Record<string, unknown>): MetadataProblem[] {
  return validateModules([
    moduleFile('accounts', moduleBody('accounts', { name: { type: 'text' } })),
    moduleFile('things', moduleBody('things', fields)),
  ]).problems;
}

/** The pointer of each problem, for compact assertions. */
const pointers = (problems: MetadataProblem[]) => problems.map((p) => p.pointer);

describe(validateModules.name, () => {
  it('accepts the shipped modules', async () => {
    const files = await readModuleFiles(findProjectRoot());
    const { modules, problems } = validateModules(files);

    expect(formatProblems(problems)).toBe('');
    expect(modules.map((m) => m.name)).toEqual(['accounts', 'activities', 'contacts', 'invoices', 'opportunities', 'products']);
    for (const module of modules) {
      expect(Object.keys(module.label).sort()).toEqual(['en', 'sv']);
      for (const field of Object.values(module.fields)) expect(Object.keys(field.label ?? {}).sort()).toEqual(['en', 'sv']);
    }
  });

  it('reports every problem of a broken set at once, with file and pointer', () => {
    const customers = `{
  "name": "customers",
  "label": { "en": "Customer" },
  "fields": {
    "name": { "type": "text", "colour": "red" },
    "rating": { "type": "stars" },
    "partner": { "type": "relation", "module": "partners" },
    "status": { "type": "picklist", "options": ["active", "inactive"], "default": "archived" },
    "id": { "type": "text" },
    "phone": { "type": "phone" },
    "phone": { "type": "phone" }
  }
}`;
    const files = [
      moduleFile('customers', customers),
      moduleFile('people', moduleBody('persons', { customer: { type: 'relation', module: 'customers' } })),
      moduleFile('broken', '{\n  "name": "broken",\n  "fields": { "a": { "type": "text" }, }\n}'),
      // Relates to the unreadable module: its folder name still counts as a known module.
      moduleFile('orders', moduleBody('orders', { customer: { type: 'relation', module: 'broken' } })),
    ];

    const { modules, problems } = validateModules(files);

    expect(problems).toEqual([
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/phone',
        message: expect.stringContaining('duplicate key "phone" at line 11, column 5'),
      },
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/name/colour',
        message: expect.stringContaining('unknown property "colour"; allowed: type, label,'),
      },
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/rating/type',
        message: expect.stringMatching(/^unknown field type "stars"; must be one of text, textarea, .*, user$/),
      },
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/partner/module',
        message: 'unknown module "partners"; known modules: broken, customers, orders, persons',
      },
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/status/default',
        message: 'default "archived" is not one of the options: active, inactive',
      },
      {
        file: 'modules/customers/module.json',
        pointer: '/fields/id',
        message: expect.stringContaining('"id" is reserved'),
      },
      {
        file: 'modules/people/module.json',
        pointer: '/name',
        message: expect.stringContaining('module name "persons" does not match its folder "people"'),
      },
      {
        file: 'modules/broken/module.json',
        pointer: '',
        message: 'invalid JSON at line 3, column 40: expected a property name in double quotes (trailing commas are not allowed)',
      },
    ]);
    expect(modules.map((m) => m.name)).toEqual(['orders']);
  });

  it('rejects options that do not fit the field type, and requires the ones a type needs', () => {
    const problems = problemsOf({
      note: { type: 'text', options: ['a'] },
      flag: { type: 'boolean', maxLength: 3 },
      count: { type: 'integer', module: 'accounts' },
      kind: { type: 'picklist' },
      account: { type: 'relation' },
      rows: { type: 'lines' },
      body: { type: 'textarea', indexed: true },
    });

    expect(problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual([
      '/fields/note/options: "options" does not apply to a text field (only for picklist, multipicklist); remove it',
      '/fields/flag/maxLength: "maxLength" does not apply to a boolean field (only for text, textarea, richtext, email, phone, url); remove it',
      '/fields/count/module: "module" does not apply to an integer field (only for relation); remove it',
      expect.stringMatching(/^\/fields\/kind: a picklist field needs "options": the allowed values/),
      expect.stringMatching(/^\/fields\/account: a relation field needs "module"/),
      expect.stringMatching(/^\/fields\/rows: a lines field needs "fields"/),
      '/fields/body/indexed: "indexed" does not apply to a textarea field (not for textarea, richtext, lines); remove it',
    ]);
  });

  it('suggests the property a typo was meant to be', () => {
    const [problem] = problemsOf({ name: { type: 'text', requried: true } });

    expect(problem).toMatchObject({
      pointer: '/fields/name/requried',
      message: expect.stringContaining('(did you mean "required"?)'),
    });
  });

  it('checks defaults against their field', () => {
    const problems = problemsOf({
      qty: { type: 'integer', default: '5' },
      pct: { type: 'percent', min: 0, max: 100, default: 150 },
      code: { type: 'text', maxLength: 3, default: 'ABCD' },
      tags: { type: 'multipicklist', options: ['a', 'b'], default: ['a', 'c'] },
      due: { type: 'date', default: '2024-02-30' },
      ok: { type: 'boolean', default: 'yes' },
      fine: { type: 'multipicklist', options: ['a', 'b'], default: ['b'] },
    });

    expect(problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual([
      '/fields/qty/default: default must be an integer for an integer field (is "5")',
      '/fields/pct/default: default 150 is above max 100',
      '/fields/code/default: default is 4 characters long, more than maxLength 3',
      '/fields/tags/default: default lists "c", not among the options: a, b',
      '/fields/due/default: default must be a date as "YYYY-MM-DD" (is "2024-02-30")',
      '/fields/ok/default: default must be true or false (is "yes")',
    ]);
  });

  it('rejects min above max, a required autonumber and reserved or malformed names', () => {
    const problems = problemsOf({
      size: { type: 'decimal', min: 10, max: 5 },
      ref: { type: 'autonumber', prefix: 'T-', required: true },
      owner: { type: 'user' },
      Bad_Name: { type: 'text' },
    });

    expect(pointers(problems)).toEqual(['/fields/Bad_Name', '/fields/size/min', '/fields/ref/required', '/fields/owner']);
    expect(problems[0].message).toContain('lower snake case');
  });

  it('checks fields inside lines: no nested lines, relations must resolve, no index on a line field', () => {
    const problems = problemsOf({
      rows: {
        type: 'lines',
        fields: {
          nested: { type: 'lines', fields: { a: { type: 'text' } } },
          product: { type: 'relation', module: 'products', indexed: true },
        },
      },
    });

    expect(problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual([
      expect.stringMatching(/^\/fields\/rows\/fields\/nested\/type: a field inside lines cannot be of type "lines"/),
      '/fields/rows/fields/product/indexed: "indexed" is not allowed on a field inside lines; set it on the lines field itself',
      '/fields/rows/fields/product/module: unknown module "products"; known modules: accounts, things',
    ]);
  });

  it('reports two files that define the same module name', () => {
    const { problems } = validateModules([
      moduleFile('accounts', moduleBody('accounts', { name: { type: 'text' } })),
      { file: 'custom/accounts.json', text: JSON.stringify(moduleBody('accounts', { name: { type: 'text' } })) },
    ]);

    expect(problems).toEqual([
      {
        file: 'custom/accounts.json',
        pointer: '/name',
        message: 'module "accounts" is already defined in modules/accounts/module.json; module names must be unique',
      },
    ]);
  });

  it('reports comments and empty files as invalid JSON', () => {
    const { problems } = validateModules([moduleFile('a', '{\n  // note\n  "name": "a"\n}'), moduleFile('b', '')]);

    expect(formatProblems(problems)).toBe(
      'modules/a/module.json#: invalid JSON at line 2, column 3: comments are not allowed in JSON\n' +
        'modules/b/module.json#: invalid JSON at line 1, column 1: the file is empty; it must hold one JSON object',
    );
  });

  it('lists exactly the field types of the metadata language in the schema', () => {
    const field = (getModuleSchema().$defs as Record<string, { properties: { type: { enum: string[] } } }>).field;

    expect(field.properties.type.enum).toEqual([...FIELD_TYPES]);
  });
});

describe(validateModuleSet.name, () => {
  it('validates parsed bodies with the same checks', () => {
    const { modules, problems } = validateModuleSet([
      { file: 'modules/accounts/module.json', body: moduleBody('accounts', { name: { type: 'text' } }) },
      {
        file: 'modules/deals/module.json',
        body: { name: 'deals', label: {}, fields: { account: { type: 'relation', module: 'acounts' } } },
      },
    ]);

    expect(formatProblems(problems)).toBe(
      'modules/deals/module.json#/label: must have text for at least one language, e.g. {"en": "..."}\n' +
        'modules/deals/module.json#/fields/account/module: unknown module "acounts"; known modules: accounts, deals',
    );
    expect(modules.map((m) => m.name)).toEqual(['accounts']);
  });

  it('rejects a body that is not an object', () => {
    const { problems } = validateModuleSet([{ file: 'modules/x/module.json', body: [] }]);

    expect(problems).toEqual([{ file: 'modules/x/module.json', pointer: '', message: 'must be an object (got an array)' }]);
  });
});
