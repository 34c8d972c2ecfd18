import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProjectRoot } from '../metadata/metadata-files';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { readMetadataFiles, validateMetadataSet } from '../metadata/metadata-set';
import { formatProblems } from '../metadata/module.validator';
import { HandlebarsEnvironment } from './handlebars.environment';
import { readTranslations } from './template-files';
import { TemplateNotFoundException } from './template.exception';
import { TemplateStore } from './template.store';

describe(TemplateStore.name, () => {
  /** The templates of `rootDir` as the engine reads and validates them at start, served from a registry snapshot. */
  const storeAt = async (rootDir: string) => {
    const { sources, problems: readProblems } = await readMetadataFiles(rootDir);
    const set = await validateMetadataSet(sources);
    const problems = [...readProblems, ...set.problems];
    if (problems.length > 0) throw new Error(formatProblems(problems));
    const registry = new MetadataRegistry();
    const environment = new HandlebarsEnvironment(await readTranslations(rootDir));
    const store = new TemplateStore(registry, environment);
    await registry.replace(1, [], [], [], { email: set.emailTemplates, documents: [] });
    return { store, registry, environment };
  };

  describe('the shipped templates', () => {
    let store: TemplateStore;
    beforeAll(async () => {
      store = (await storeAt(findProjectRoot())).store;
    });

    it('are all loaded', () => {
      const files = readdirSync(join(findProjectRoot(), 'templates', 'email')).filter((f) => f.endsWith('.hbs'));
      expect(store.names().sort()).toEqual(files.map((f) => f.slice(0, -'.hbs'.length)).sort());
      expect(store.names()).toEqual(expect.arrayContaining(['invoice-overdue', 'opportunity-won', 'welcome']));
      expect(store.has('welcome')).toBe(true);
      expect(store.has('nope')).toBe(false);
    });

    it('render opportunity-won with subject, currency per language and a text part', () => {
      const data = { owner: { name: 'Åsa' }, opportunity: { name: 'Big <deal>', amount: 1234.5 }, account: { name: 'Acme & Co' } };
      const sv = store.render('opportunity-won', data, { lang: 'sv' });
      expect(sv.subject).toBe('Affärsmöjligheten Big <deal> är vunnen');
      expect(sv.html).toContain('Big &lt;deal&gt;');
      expect(sv.html).toContain('Acme &amp; Co');
      expect(sv.html).toContain('1\u00a0234,50\u00a0kr');
      expect(sv.text).toContain('Hej Åsa,');
      expect(sv.text).toContain('Belopp\t1\u00a0234,50\u00a0kr');
      expect(sv.text).toContain('Affärsmöjlighet\tBig <deal>');
      expect(sv.text).not.toMatch(/<\/?(p|td|br)|&amp;|&lt;/);
      const en = store.render('opportunity-won', { ...data, opportunity: { ...data.opportunity, currency: 'USD' } }, { lang: 'en' });
      expect(en.subject).toBe('Opportunity Big <deal> won');
      expect(en.html).toContain('$1,234.50');
    });

    it('render invoice-overdue with every line, the due date and the total', () => {
      const data = {
        contact: { name: 'Bo' },
        account: { name: 'Acme' },
        invoice: {
          number: 'INV-00042',
          due_date: '2025-01-31',
          total: 250,
          currency: 'SEK',
          lines: [
            { description: 'Consulting', quantity: 2, price: 100 },
            { description: 'Travel', quantity: 1.5, price: 33.33 },
          ],
        },
      };
      const { subject, text } = store.render('invoice-overdue', data, { lang: 'sv' });
      expect(subject).toBe('Faktura INV-00042 är förfallen');
      expect(text).toContain('Förfallodatum: 31 jan. 2025');
      expect(text).toContain('Consulting\t2\t100,00\u00a0kr');
      expect(text).toContain('Travel\t1,5\t33,33\u00a0kr');
      expect(text).toContain('Totalt\t250,00\u00a0kr');
    });

    it('render welcome', () => {
      const { subject, text } = store.render('welcome', { product: 'metacrm', user: { name: 'Ann', email: 'ann@example.com' } });
      expect(subject).toBe('Welcome to metacrm');
      expect(text).toContain('Sign in with your e-mail address ann@example.com.');
    });

    it('refuse an unknown template', () => {
      expect(() => store.render('nope', {})).toThrow(TemplateNotFoundException);
    });
  });

  describe('serves the current snapshot', () => {
    const template = (name: string, source: string) => ({ name, file: `templates/email/${name}.hbs`, source });

    it('compiles when a snapshot is swapped in, never per render; a new snapshot is live at once', async () => {
      const registry = new MetadataRegistry();
      const environment = new HandlebarsEnvironment();
      const compile = jest.spyOn(environment, 'compile');
      const store = new TemplateStore(registry, environment);
      await registry.replace(1, [], [], [], {
        email: [template('hello', '{{!-- subject: Hi {{name}} --}}\n<p>v1 {{name}}</p>')],
        documents: [],
      });
      expect(compile).toHaveBeenCalledTimes(2); // subject and body, at the swap
      expect(store.render('hello', { name: 'Ann' })).toMatchObject({ subject: 'Hi Ann', html: '<p>v1 Ann</p>' });
      expect(store.render('hello', { name: 'Bo' }).html).toBe('<p>v1 Bo</p>');
      expect(compile).toHaveBeenCalledTimes(2);

      await registry.replace(2, [], [], [], {
        email: [template('hello', '{{!-- subject: Hej {{name}} --}}\n<p>v2 {{name}}</p>')],
        documents: [],
      });
      expect(store.render('hello', { name: 'Ann' })).toMatchObject({ subject: 'Hej Ann', html: '<p>v2 Ann</p>' });
      expect(store.names()).toEqual(['hello']);
      await registry.replace(3, [], [], [], { email: [], documents: [] });
      expect(store.has('hello')).toBe(false);
      expect(() => store.render('hello', {})).toThrow(TemplateNotFoundException);
    });
  });

  describe('stops the start', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'templates-'));
      mkdirSync(join(root, 'templates', 'email'), { recursive: true });
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));
    const write = (name: string, text: string) => writeFileSync(join(root, 'templates', 'email', name), text);
    /** The problems the metadata set has, one line each as the refused start prints them. */
    const problems = async () => {
      const { sources, problems: readProblems } = await readMetadataFiles(root);
      return formatProblems([...readProblems, ...(await validateMetadataSet(sources)).problems]).split('\n');
    };

    it('on a syntax error in the body or the subject, naming file, line and column of each', async () => {
      write('ok.hbs', '{{!-- subject: Fine --}}\n<p>{{name}}</p>\n');
      write('broken.hbs', '{{!-- subject: Hi {{name}} --}}\n<p>\n  {{#if x}}\n  {{/each}}\n</p>\n');
      write('bad-subject.hbs', '{{!-- subject: Hi {{shout name}} --}}\n<p></p>\n');
      expect(await problems()).toEqual([
        'templates/email/bad-subject.hbs:1:19: You specified knownHelpersOnly, but used the unknown helper shout',
        "templates/email/broken.hbs:3:6: if doesn't match each",
      ]);
    });

    it('without a subject line', async () => {
      write('nosubject.hbs', '<p>{{name}}</p>\n');
      expect(await problems()).toEqual([
        'templates/email/nosubject.hbs:1:1: the first line must name the subject: {{!-- subject: Your subject with {{values}} --}}',
      ]);
    });

    it('on a bad file name or translation file', async () => {
      write('Bad Name.hbs', '{{!-- subject: x --}}');
      expect(await problems()).toEqual([expect.stringContaining('templates/email/Bad Name.hbs#: a template name is')]);
      rmSync(join(root, 'templates', 'email', 'Bad Name.hbs'));
      mkdirSync(join(root, 'metadata', 'translations'), { recursive: true });
      writeFileSync(join(root, 'metadata', 'translations', 'sv.json'), '{"greeting": 1}');
      await expect(readTranslations(root)).rejects.toThrow('metadata/translations/sv.json#/greeting: must be a text');
    });

    it('but an empty project has no templates', async () => {
      rmSync(join(root, 'templates'), { recursive: true });
      expect((await storeAt(root)).store.names()).toEqual([]);
    });
  });
});
