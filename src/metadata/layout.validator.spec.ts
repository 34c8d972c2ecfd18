import type { FieldDefinition, MetadataProblem, ModuleDefinition } from './metadata.types';
import { findProjectRoot, readModuleFiles } from './metadata-files';
import { formatProblems, validateModules } from './module.validator';
import { readLayoutFiles, validateLayoutFiles, validateLayouts } from './layout.validator';

const root = findProjectRoot();

/** A small module; `fields` maps names to a type, or to a full definition. */
function module(name: string, fields: Record<string, FieldDefinition['type'] | FieldDefinition>): ModuleDefinition {
  return {
    name,
    label: { en: name },
    fields: Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, typeof f === 'string' ? { type: f } : f])),
  };
}

const accounts = module('accounts', {
  name: 'text',
  city: 'text',
  phone: 'phone',
  notes: 'textarea',
  parent: { type: 'relation', module: 'accounts' },
});
const contacts = module('contacts', {
  last_name: 'text',
  email: 'email',
  tags: { type: 'multipicklist', options: ['a', 'b'] },
  account: { type: 'relation', module: 'accounts' },
  employer: { type: 'relation', module: 'accounts' },
  buddy: { type: 'relation', module: 'contacts' },
});
const fixtureModules = [accounts, contacts];

/** A minimal valid accounts layout, changed by `patch`. */
function accountsLayout(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    module: 'accounts',
    blocks: [{ id: 'main', label: { en: 'Main' }, fields: ['name', 'city'] }],
    ...patch,
  };
}

function problemsOf(body: unknown, file = 'modules/accounts/layout.json'): MetadataProblem[] {
  return validateLayouts([{ file, body }], fixtureModules).problems;
}

const at = (pointer: string, message: string) => ({
  file: 'modules/accounts/layout.json',
  pointer,
  message: expect.stringContaining(message),
});

describe(validateLayouts.name, () => {
  it('accepts the shipped layouts, which place every field of their module exactly once', async () => {
    const modules = validateModules(await readModuleFiles(root));
    expect(formatProblems(modules.problems)).toBe('');
    const files = await readLayoutFiles(root);

    const { layouts, problems } = validateLayoutFiles(files, modules.modules);

    expect(formatProblems(problems)).toBe('');
    expect(layouts.map((l) => l.module)).toEqual(['accounts', 'activities', 'contacts', 'invoices', 'opportunities', 'products']);
    for (const layout of layouts) {
      const fields = Object.keys(modules.modules.find((m) => m.name === layout.module)!.fields);
      const placed = [...layout.blocks.flatMap((b) => b.fields), ...layout.hidden];
      expect([...placed].sort()).toEqual([...fields].sort());
      for (const item of [...layout.blocks, ...layout.relatedLists]) expect(Object.keys(item.label).sort()).toEqual(['en', 'sv']);
      expect(layout.tools).toEqual(layout.module === 'invoices' ? ['print_invoice', 'send_invoice', 'credit_invoice'] : []);
    }
    const accountLists = layouts[0].relatedLists.map((r) => `${r.module}.${r.relation}`);
    expect(accountLists).toEqual([
      'contacts.account',
      'opportunities.account',
      'invoices.account',
      'activities.account',
      'accounts.parent_account',
    ]);
  });

  it('fills in the defaults of a valid layout without changing the input', () => {
    const body = accountsLayout({
      relatedLists: [{ id: 'contacts', label: { en: 'C' }, module: 'contacts', relation: 'account', columns: ['last_name'] }],
    });
    const copy = structuredClone(body);

    const { layouts, problems } = validateLayouts([{ file: 'modules/accounts/layout.json', body }], fixtureModules);

    expect(problems).toEqual([]);
    expect(body).toEqual(copy);
    expect(layouts).toEqual([
      {
        module: 'accounts',
        blocks: [{ id: 'main', label: { en: 'Main' }, columns: 2, collapsed: false, fields: ['name', 'city'] }],
        hidden: [],
        relatedLists: [
          { id: 'contacts', label: { en: 'C' }, module: 'contacts', relation: 'account', columns: ['last_name'], pageSize: 10 },
        ],
        tools: [],
      },
    ]);
  });

  it('allows fields in neither a block nor hidden (they go to the automatic "Other" block)', () => {
    expect(problemsOf(accountsLayout({ blocks: [{ id: 'main', label: { en: 'Main' }, fields: ['name'] }] }))).toEqual([]);
  });

  it('reports every misplaced field with the pointer of the offending entry', () => {
    const body = accountsLayout({
      blocks: [
        { id: 'main', label: { en: 'Main' }, fields: ['name', 'city', 'name'] },
        { id: 'contact', label: { en: 'Contact' }, fields: ['phone', 'notes', 'parent', 'fax', 'city'] },
        { id: 'main', label: { en: 'Again' }, fields: ['nmae'] },
      ],
      hidden: ['notes', 'colour', 'constructor'],
    });

    expect(problemsOf(body)).toEqual([
      at('/blocks/2/id', 'block id "main" is already used by block 0 (/blocks/0)'),
      at('/blocks/0/fields/2', 'field "name" is listed twice in block "main" (first at /blocks/0/fields/0)'),
      at('/blocks/1/fields/3', 'unknown field "fax" of module accounts; its fields: name, city, phone, notes, parent'),
      at('/blocks/1/fields/4', 'field "city" is already in block "main" (/blocks/0/fields/1); a field can be in one block only'),
      at('/blocks/2/fields/0', 'unknown field "nmae" of module accounts (did you mean "name"?)'),
      at('/hidden/0', 'field "notes" is hidden but also shown in block "contact" (/blocks/1/fields/1)'),
      at('/hidden/1', 'unknown field "colour" of module accounts'),
      at('/hidden/2', 'unknown field "constructor" of module accounts'),
    ]);
  });

  it('reports related lists whose module, relation, columns or sort do not fit', () => {
    const list = (patch: Record<string, unknown>) => ({
      id: 'contacts',
      label: { en: 'Contacts' },
      module: 'contacts',
      relation: 'account',
      columns: ['last_name'],
      ...patch,
    });
    const body = accountsLayout({
      relatedLists: [
        list({ module: 'persons' }),
        list({ id: 'by_buddy', relation: 'buddy' }),
        list({ id: 'by_email', relation: 'email' }),
        list({ id: 'by_nothing', relation: 'acount' }),
        list({ id: 'columns', columns: ['last_name', 'number', 'createdAt', 'phone'] }),
        list({ id: 'sorted', sort: '-createdAt,last_name,number' }),
        list({ id: 'bad_sort', sort: 'last_name,-fax' }),
        list({ id: 'tag_sort', sort: 'tags' }),
        list({ id: 'twice_sort', sort: 'email,-email' }),
        list({ id: 'by_employer', relation: 'employer' }),
      ],
    });

    expect(problemsOf(body)).toEqual([
      at('/relatedLists/0/module', 'unknown module "persons"; known modules: accounts, contacts'),
      at(
        '/relatedLists/1/relation',
        'relation "buddy" of contacts points to contacts, not to accounts; relation fields of contacts that point to accounts: account, employer',
      ),
      at('/relatedLists/2/relation', 'field "email" of contacts is an email field, not a relation'),
      at('/relatedLists/3/relation', 'unknown field "acount" of module contacts (did you mean "account"?)'),
      at('/relatedLists/4/columns/3', 'unknown field "phone" of module contacts'),
      at('/relatedLists/6/sort', 'unknown sort key "fax": not a field of contacts nor one of number, createdAt, updatedAt'),
      at('/relatedLists/7/sort', 'cannot sort by "tags": a multipicklist field has no order'),
      at('/relatedLists/8/sort', 'sort key "email" appears twice'),
    ]);
  });

  it('reports duplicate related-list ids and a module with no relation back', () => {
    const body = {
      module: 'contacts',
      blocks: [],
      relatedLists: [
        { id: 'children', label: { en: 'A' }, module: 'accounts', relation: 'parent', columns: ['name'] },
        { id: 'children', label: { en: 'B' }, module: 'contacts', relation: 'buddy', columns: ['last_name'] },
      ],
    };

    expect(problemsOf(body, 'modules/contacts/layout.json')).toEqual([
      {
        file: 'modules/contacts/layout.json',
        pointer: '/relatedLists/1/id',
        message: expect.stringContaining('related list id "children" is already used by related list 0'),
      },
      {
        file: 'modules/contacts/layout.json',
        pointer: '/relatedLists/0/relation',
        message: expect.stringContaining('accounts has no relation field pointing to contacts'),
      },
    ]);
  });

  it('reports a layout whose module is unknown, does not match its folder or already has a layout', () => {
    const result = validateLayouts(
      [
        { file: 'modules/accounts/layout.json', body: accountsLayout({ module: 'contacts', blocks: [] }) },
        { file: 'modules/contacts/layout.json', body: { module: 'contacts', blocks: [] } },
        {
          file: 'modules/leads/layout.json',
          body: { module: 'leads', blocks: [{ id: 'main', label: { en: 'Main' }, fields: ['anything'] }] },
        },
      ],
      fixtureModules,
    );

    expect(result.problems).toEqual([
      at('/module', 'module "contacts" does not match the folder "accounts"'),
      {
        file: 'modules/contacts/layout.json',
        pointer: '/module',
        message: expect.stringContaining('module "contacts" already has a layout in modules/accounts/layout.json'),
      },
      { file: 'modules/leads/layout.json', pointer: '/module', message: 'unknown module "leads"; known modules: accounts, contacts' },
    ]);
    expect(result.layouts).toEqual([]);
  });

  it('reports schema violations with readable messages and exact pointers', () => {
    const body = {
      module: 'accounts',
      blocks: [
        { id: 'Main', label: {}, columns: 5, colapsed: true, fields: [] },
        { id: 'ok', label: { english: 'x' }, fields: ['name', 7] },
      ],
      hidden: ['city', 'city'],
      relatedLists: [
        {
          id: 'contacts',
          label: { en: 'C' },
          module: 'contacts',
          relation: 'account',
          columns: ['last_name', 'Email', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11'],
          sort: '-createdAt, name',
          pageSize: 0,
        },
        { id: 'x', module: 'contacts', relation: 'account', columns: ['email'] },
      ],
      tools: ['Credit'],
      buttons: [],
    };

    expect(problemsOf(body)).toEqual([
      at('/buttons', 'unknown property "buttons"; allowed: $schema, module, blocks, hidden, relatedLists, tools'),
      at('/blocks/0/colapsed', 'unknown property "colapsed" (did you mean "collapsed"?)'),
      at('/blocks/0/id', '"Main" is not a valid name: use lower snake case'),
      at('/blocks/0/label', 'must have text for at least one language'),
      at('/blocks/0/columns', 'must be at most 4 (is 5)'),
      at('/blocks/0/fields', 'must list at least 1 value(s)'),
      at('/blocks/1/label/english', '"english" is not a language code'),
      at('/blocks/1/fields/1', 'must be a string (got number 7)'),
      at('/hidden', 'must not list a value twice: "city" is at positions 0 and 1'),
      at('/relatedLists/0/columns', 'must list at most 10 values (lists 11)'),
      at('/relatedLists/0/columns/1', '"Email" is not a column'),
      at('/relatedLists/0/sort', '"-createdAt, name" is not a sort'),
      at('/relatedLists/0/pageSize', 'must be at least 1 (is 0)'),
      at('/relatedLists/1', 'missing required property "label"'),
      at('/tools/0', '"Credit" is not a valid name'),
      at('/relatedLists/0/columns/2', 'unknown field "c3" of module contacts'),
      ...['c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11'].map((c, i) => at(`/relatedLists/0/columns/${i + 3}`, `unknown field "${c}"`)),
    ]);
  });

  it('rejects a body that is not an object', () => {
    expect(problemsOf([])).toEqual([at('', 'must be an object (got an array)')]);
  });

  it('accepts related-list filters that the list query can run', () => {
    const filters = [
      { field: 'last_name', op: 'startsWith', value: 'A' },
      {
        all: [
          { field: 'email', op: 'empty' },
          { field: 'tags', op: 'contains', value: 'a' },
          { field: 'last_name', op: 'in', value: ['x', 'y'] },
        ],
      },
    ];
    const body = accountsLayout({
      relatedLists: filters.map((filter, i) => ({
        id: `l${i}`,
        label: { en: 'L' },
        module: 'contacts',
        relation: 'account',
        columns: ['last_name'],
        filter,
      })),
    });

    expect(problemsOf(body)).toEqual([]);
  });

  it('reports filters that break the condition language, do not fit the listed module or cannot run as a list query', () => {
    const filters: unknown[] = [
      { feld: 'email', op: 'empty' },
      { field: 'nope', op: 'eq', value: 'x' },
      { field: 'tags', op: 'eq', value: 'c' },
      { any: [{ field: 'email', op: 'empty' }] },
      { all: [{ field: 'email', op: 'changed' }, { expression: 'true' }, { not: { field: 'email', op: 'empty' } }] },
      'email is empty',
    ];
    const body = accountsLayout({
      relatedLists: [
        ...filters.map((filter, i) => ({
          id: `l${i}`,
          label: { en: 'L' },
          module: 'contacts',
          relation: 'account',
          columns: ['last_name'],
          filter,
        })),
        // The listed module is unknown: the filter's shape is still checked.
        { id: 'unknown', label: { en: 'L' }, module: 'persons', relation: 'account', columns: ['name'], filter: { field: 'x', op: 'eq' } },
      ],
    });

    expect(problemsOf(body)).toEqual([
      at('/relatedLists/0/filter/feld', 'unknown property "feld" (did you mean "field"?)'),
      at('/relatedLists/1/filter/field', '"nope" is not a field of contacts'),
      at('/relatedLists/2/filter/value', 'eq on a multipicklist compares the whole selection'),
      at('/relatedLists/3/filter/any', '"any" is not supported here'),
      at(
        '/relatedLists/4/filter/all/0/op',
        '"changed" cannot be used in a related-list filter, which runs as a list query; use one of eq, ne,',
      ),
      at('/relatedLists/4/filter/all/1/expression', '"expression" is not supported inside "all"'),
      at('/relatedLists/4/filter/all/2/not', '"not" is not supported inside "all"'),
      at('/relatedLists/5/filter', 'must be a condition object (got string "email is empty")'),
      at('/relatedLists/6/module', 'unknown module "persons"'),
      at('/relatedLists/6/filter', '"eq" needs a "value"'),
    ]);
  });
});

describe(validateLayoutFiles.name, () => {
  it('reports JSON syntax errors with line and column, and duplicate keys', () => {
    const files = [
      { file: 'modules/accounts/layout.json', text: '{\n  "module": "accounts",\n  "blocks": [],\n}' },
      { file: 'modules/contacts/layout.json', text: '{\n  "module": "contacts",\n  "blocks": [],\n  "blocks": []\n}' },
      { file: 'modules/products/layout.json', text: '' },
      { file: 'modules/things/layout.json', text: JSON.stringify({ module: 'things', blocks: [] }) },
    ];

    const { layouts, problems } = validateLayoutFiles(files, [
      ...fixtureModules,
      module('products', { name: 'text' }),
      module('things', { name: 'text' }),
    ]);

    expect(problems).toEqual([
      at('', 'invalid JSON at line 4, column 1: expected a property name in double quotes (trailing commas are not allowed)'),
      {
        file: 'modules/contacts/layout.json',
        pointer: '/blocks',
        message: expect.stringContaining('duplicate key "blocks" at line 4, column 3'),
      },
      { file: 'modules/products/layout.json', pointer: '', message: expect.stringContaining('the file is empty') },
    ]);
    // The contacts layout is valid apart from its duplicate key, which already loses an edit: not used.
    expect(layouts.map((l) => l.module)).toEqual(['things']);
  });
});
