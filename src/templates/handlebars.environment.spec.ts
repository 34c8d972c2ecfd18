import { HandlebarsEnvironment } from './handlebars.environment';
import { TemplateRenderException, TemplateSyntaxException } from './template.exception';

describe(HandlebarsEnvironment.name, () => {
  const env = new HandlebarsEnvironment({
    en: { greeting: 'Hello {name},', total: 'Total' },
    sv: { greeting: 'Hej {name},', total: 'Totalt' },
  });
  const render = (source: string, data: unknown = {}, lang = 'en') => env.compile(source).render(data, { lang });
  const syntaxError = (source: string): TemplateSyntaxException => {
    try {
      env.compile(source, { file: 'templates/email/x.hbs' });
    } catch (error) {
      if (error instanceof TemplateSyntaxException) return error;
      throw error;
    }
    throw new Error('expected a syntax error');
  };

  describe('renders', () => {
    it('HTML-escapes values', () => {
      expect(render('<p>{{name}}</p>', { name: '<script>alert("x")</script> & co' })).toBe(
        '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</p>',
      );
    });

    it('does not evaluate Handlebars in data', () => {
      expect(render('{{name}}', { name: '{{constructor.constructor "return process"}}' })).toBe(
        '{{constructor.constructor &quot;return process&quot;}}',
      );
    });

    it('formats numbers, currency and dates per language', () => {
      const source = '{{number n}}|{{number n 1}}|{{currency amount}}|{{currency amount "EUR"}}|{{date day}}|{{date day "long"}}';
      const data = { n: 1234.5678, amount: 1234.5, day: '2025-03-01' };
      expect(render(source, data, 'sv')).toBe(
        '1\u00a0234,5678|1\u00a0234,6|1\u00a0234,50\u00a0kr|1\u00a0234,50\u00a0€|1 mars 2025|1 mars 2025',
      );
      expect(render(source, data, 'en')).toBe('1,234.5678|1,234.6|€1,234.50|€1,234.50|Mar 1, 2025|March 1, 2025');
    });

    it('formats datetimes in UTC by default and blanks stay blank', () => {
      expect(render('{{datetime at}}', { at: '2025-03-01T13:05:00Z' }, 'sv')).toBe('1 mars 2025 13:05');
      expect(render('[{{date x}}{{currency x}}{{number x}}]', { x: null })).toBe('[]');
    });

    it('translates with placeholders, falling back to English, then to the key', () => {
      expect(render('{{t "greeting" name=n}} {{translate "total"}}', { n: 'Åsa <b>' }, 'sv')).toBe('Hej Åsa &lt;b&gt;, Totalt');
      expect(render('{{t "greeting" name=n}}', { n: 'Ann' }, 'de')).toBe('Hello Ann,');
      expect(render('{{t "no_such_key"}}')).toBe('no_such_key');
    });

    it('reads field labels from the render options in the language', () => {
      const compiled = env.compile('{{label "amount"}}|{{label "opportunities" "close_date"}}|{{label "due_date"}}');
      const labels = { amount: { en: 'Amount', sv: 'Belopp' }, 'opportunities.close_date': 'Close date' };
      expect(compiled.render({}, { lang: 'sv', labels })).toBe('Belopp|Close date|Due date');
    });

    it('renders sections over objects and lists', () => {
      expect(
        render('{{#account}}{{name}}{{/account}}{{#tags}}[{{this}}]{{/tags}}{{^none}}-{{/none}}', {
          account: { name: 'A<' },
          tags: ['x', 'y'],
        }),
      ).toBe('A&lt;[x][y]-');
    });

    it('iterates lines and related records with each, and keeps if/unless/with/lookup', () => {
      const source =
        '{{#each lines}}{{@index}}:{{description}}={{currency price "SEK"}};{{/each}}{{#if paid}}paid{{else}}open{{/if}}{{#with account}}/{{name}}{{/with}}/{{lookup totals "net"}}';
      const data = {
        lines: [
          { description: 'A', price: 10 },
          { description: 'B', price: 2.5 },
        ],
        paid: false,
        account: { name: 'Acme' },
        totals: { net: 3 },
      };
      expect(render(source, data, 'sv')).toBe('0:A=10,00\u00a0kr;1:B=2,50\u00a0kr;open/Acme/3');
    });

    it('compiles a source once', () => {
      expect(env.compile('{{a}} once')).toBe(env.compile('{{a}} once'));
    });

    it('does not escape in text mode (subjects)', () => {
      expect(env.compile('{{a}}', { mode: 'text' }).render({ a: 'R&D <team>' })).toBe('R&D <team>');
    });
  });

  describe('refuses', () => {
    it('prototype access: constructor, __proto__, lookup and prototype methods resolve to nothing', () => {
      const sources = [
        '{{constructor}}',
        '{{constructor.constructor}}',
        '{{#with this.__proto__}}[{{constructor}}]{{/with}}',
        '{{#with __proto__}}{{#with constructor}}{{name}}{{/with}}{{/with}}',
        '{{lookup this "constructor"}}',
        '{{#with (lookup this "constructor")}}{{name}}{{/with}}',
        '{{lookup (lookup this "constructor") "prototype"}}',
        '{{name.constructor.name}}',
        '{{name.length}}',
        '{{#each this}}{{@key}}{{/each}}',
      ];
      for (const source of sources) expect(render(source, { name: 'x' })).not.toMatch(/function|Object|String|process|\[native/);
      expect(render('{{#with this.__proto__}}[{{constructor}}]{{/with}}', {})).toBe('');
    });

    it('calls to functions: functions, class instances and getters in data never reach the template', () => {
      class Secret {
        value = 'own';
        get computed() {
          return 'getter';
        }
        reveal() {
          return 'method';
        }
      }
      const data = { fn: () => 'called', secret: new Secret(), when: new Date('2025-01-02T00:00:00Z') };
      expect(render('{{fn}}|{{secret.value}}|{{secret.computed}}|{{secret.reveal}}|{{when}}', data)).toBe(
        '|own|||2025-01-02T00:00:00.000Z',
      );
    });

    it('helpers outside the allow-list, log and helperMissing at compile time', () => {
      for (const source of [
        '{{constructor.constructor "return process"}}',
        '{{#constructor.constructor "return process"}}x{{/constructor.constructor}}',
        '{{log "x"}}',
        '{{helperMissing "x"}}',
        '{{blockHelperMissing "x"}}',
        '{{toString}}x{{valueOf 1}}',
        '{{(lookup this "constructor") "return process"}}',
      ]) {
        expect(() => env.compile(source)).toThrow(TemplateSyntaxException);
      }
      expect(syntaxError('{{log "x"}}').detail).toContain('unknown helper log');
    });

    it('a missing partial at render time, as a render error', () => {
      expect(() => render('{{> secrets}}')).toThrow(TemplateRenderException);
    });

    it('a bad currency code or language, as a render error', () => {
      expect(() => render('{{currency 1 "not a code"}}')).toThrow(TemplateRenderException);
      expect(() => render('{{number "abc"}}')).toThrow(/needs a number/);
      expect(() => env.compile('{{a}}').render({}, { lang: 'not a language!' })).toThrow(TemplateRenderException);
    });
  });

  describe('reports syntax errors with line and column', () => {
    it('an unclosed mustache', () => {
      const error = syntaxError('line one\n<p>\n  {{foo bar</p>');
      expect(error.location).toMatchObject({ file: 'templates/email/x.hbs', line: 3 });
      expect(error.location.column).toBeGreaterThan(2);
      expect(error.detail).toMatch(/^templates\/email\/x\.hbs:3:\d+: parse error/);
    });

    it('mismatched blocks', () => {
      const error = syntaxError('a\n  {{#if x}}\n{{/each}}');
      expect(error.location).toEqual({ file: 'templates/email/x.hbs', line: 2, column: 6 });
      expect(error.detail).toBe("templates/email/x.hbs:2:6: if doesn't match each");
    });

    it('an unknown helper', () => {
      const error = syntaxError('a\nb {{shout name}}');
      expect(error.location).toEqual({ file: 'templates/email/x.hbs', line: 2, column: 3 });
      expect(error.detail).toContain('unknown helper shout');
    });

    it('offsets a piece of a file (a subject on line 1)', () => {
      try {
        env.compile('x {{shout a}}', { file: 'f.hbs', origin: { line: 1, column: 16 } });
        throw new Error('expected a syntax error');
      } catch (error) {
        expect((error as TemplateSyntaxException).location).toEqual({ file: 'f.hbs', line: 1, column: 18 });
      }
    });
  });
});
