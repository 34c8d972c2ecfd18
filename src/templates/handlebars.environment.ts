import Handlebars from 'handlebars';
import { createHash } from 'node:crypto';
import { TemplateRenderException, TemplateSyntaxException, type TemplateLocation } from './template.exception';
import { createHelpers, defaultCurrency, HelperArgumentError, type LabelMap, type RenderData, type Translations } from './template.helpers';

export interface RenderOptions {
  /** BCP 47 language (`en`, `sv`, `en-GB`): number and date formats, translations and labels. Default `en`. */
  lang?: string;
  /** Currency for `{{currency value}}` without a code. Default: by language (sv → SEK, …), else EUR. */
  currency?: string;
  /** IANA time zone for `{{datetime}}` and timestamps given to `{{date}}`. Default UTC. */
  timeZone?: string;
  /** Field labels for `{{label}}`, also readable as `@labels`. */
  labels?: LabelMap;
}

/**
 * `html` escapes every `{{value}}` for HTML (bodies); `text` does not (mail subjects, which are header text and
 * never parsed as HTML).
 */
export type TemplateMode = 'html' | 'text';

export interface CompileOptions {
  mode?: TemplateMode;
  /** Named in errors, e.g. `templates/email/welcome.hbs`. */
  file?: string;
  /** Where `source` starts inside `file` (1-based), when it is a piece of a larger file such as a subject line. */
  origin?: { line: number; column: number };
}

/** A compiled template, ready to render many times. */
export interface CompiledTemplate {
  render(data: unknown, options?: RenderOptions): string;
}

/** The built-ins kept, besides the helpers of {@link createHelpers}. `log` is gone; `helperMissing` throws. */
const BUILT_INS = ['if', 'unless', 'each', 'with', 'lookup', 'blockHelperMissing'] as const;

type TemplateFn = Handlebars.TemplateDelegate & { _setup?: (options: object) => unknown };

/** Compiled templates kept per environment (each active template once, plus recently replaced versions). */
const MAX_CACHED = 500;

/**
 * The one Handlebars environment of the engine (`Handlebars.create()`: nothing registered on the global
 * instance leaks in, and nothing of ours leaks out). Templates are metadata written by admins, so:
 *
 * - Only allow-listed helpers exist: `knownHelpersOnly` makes any other helper call a compile error, `log` is
 *   removed, and `helperMissing` throws should anything reach it.
 * - No prototype access: `allowProtoPropertiesByDefault`/`allowProtoMethodsByDefault` are off, so
 *   `{{constructor.constructor}}`, `{{#with __proto__}}` and `{{lookup this "constructor"}}` resolve to nothing;
 *   and the data is cut down to plain JSON before rendering, so no class instance, function or getter of the
 *   caller's objects reaches a template (functions in data would otherwise be called by Handlebars).
 * - `{{value}}` is HTML-escaped. `{{{value}}}` (and `{{& value}}`) emit raw HTML: use them only for values that
 *   are already safe HTML (e.g. a sanitised richtext field), never for free text.
 *
 * Compiled templates are cached by mode, file and source, so the same text compiles once however often it is loaded
 * (a metadata reload after a publish of something else compiles nothing).
 */
export class HandlebarsEnvironment {
  private readonly handlebars = Handlebars.create();
  private readonly cache = new Map<string, CompiledTemplate>();
  /** Hashes of what {@link check} found sound. */
  private readonly checked = new Set<string>();

  constructor(private readonly translations: Translations = {}) {
    const hb = this.handlebars;
    for (const name of Object.keys(hb.helpers)) {
      if (!(BUILT_INS as readonly string[]).includes(name)) hb.unregisterHelper(name);
    }
    hb.registerHelper('helperMissing', (...args: unknown[]) => {
      const options = args[args.length - 1] as Handlebars.HelperOptions & { name?: string };
      throw new HelperArgumentError(`"${options.name ?? '?'}" is not an allowed helper`);
    });
    hb.registerHelper(createHelpers(translations));
  }

  /** The helpers a template may call (for documentation and admin tooling). */
  helperNames(): string[] {
    return Object.keys(this.handlebars.helpers)
      .filter((name) => name !== 'helperMissing' && name !== 'blockHelperMissing')
      .sort();
  }

  /** Compiles `source` now (errors carry file, line and column), or returns the cached compilation. */
  compile(source: string, options: CompileOptions = {}): CompiledTemplate {
    const mode = options.mode ?? 'html';
    const file = options.file ?? 'template';
    const cacheKey = `${mode}\u0000${file}\u0000${source}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const fn = this.build(source, options);
    const compiled: CompiledTemplate = { render: (data, renderOptions) => this.run(fn, file, data, renderOptions ?? {}) };
    // Every published version adds an entry; the oldest go first, so the cache stays bounded.
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(cacheKey, compiled);
    return compiled;
  }

  /**
   * Compiles `source` as {@link compile} does, to find its errors (a {@link TemplateSyntaxException} with file, line
   * and column), without keeping the result: what a publish validates may never be rendered.
   */
  check(source: string, options: CompileOptions = {}): void {
    // A publish validates every template of the set: one already found sound is not compiled again.
    const origin = options.origin ?? { line: 1, column: 1 };
    const key = createHash('sha256')
      .update(`${options.mode ?? 'html'}\u0000${options.file ?? 'template'}\u0000${origin.line}:${origin.column}\u0000${source}`)
      .digest('base64');
    if (this.checked.has(key)) return;
    this.build(source, options);
    if (this.checked.size >= MAX_CACHED * 4) this.checked.delete(this.checked.values().next().value!);
    this.checked.add(key);
  }

  private build(source: string, options: CompileOptions): TemplateFn {
    const mode = options.mode ?? 'html';
    const file = options.file ?? 'template';
    const origin = options.origin ?? { line: 1, column: 1 };
    const at = (line: number, column0: number): TemplateLocation => ({
      file,
      line: origin.line + line - 1,
      column: line === 1 ? origin.column + column0 : column0 + 1,
    });
    try {
      this.handlebars.parse(source);
    } catch (error) {
      throw parseException(error as Error, at, this.handlebars);
    }
    const fn = this.handlebars.compile(source, {
      // The hooks are not callable by name; `{{#section}}` blocks still use blockHelperMissing internally.
      knownHelpers: {
        ...Object.fromEntries(this.helperNames().map((name) => [name, true])),
        log: false,
        helperMissing: false,
        blockHelperMissing: false,
      },
      knownHelpersOnly: true,
      noEscape: mode === 'text',
      strict: false,
      compat: false,
    }) as TemplateFn;
    try {
      // Handlebars compiles lazily on first render; force it so a bad template fails at load, not at send.
      fn._setup?.({});
    } catch (error) {
      const e = error as Error & { lineNumber?: number; column?: number };
      const reason = e.message.replace(/ - \d+:\d+$/, '');
      throw new TemplateSyntaxException(e.lineNumber !== undefined ? at(e.lineNumber, e.column ?? 0) : at(1, 0), reason);
    }
    return fn;
  }

  private run(fn: TemplateFn, name: string, data: unknown, options: RenderOptions): string {
    const lang = canonicalLang(name, options.lang ?? 'en');
    const renderData: RenderData = {
      lang,
      currency: (options.currency ?? defaultCurrency(lang)).toUpperCase(),
      timeZone: options.timeZone ?? 'UTC',
      labels: plainJson(name, options.labels ?? {}) as LabelMap,
    };
    try {
      return fn(plainJson(name, data ?? {}), {
        data: renderData,
        allowProtoPropertiesByDefault: false,
        allowProtoMethodsByDefault: false,
        allowCallsToHelperMissing: false,
      });
    } catch (error) {
      throw new TemplateRenderException(name, (error as Error).message.replace(/ - \d+:\d+$/, ''));
    }
  }
}

/** JSON in, JSON out: dates become ISO strings; functions, class instances' methods and getters are gone. */
function plainJson(name: string, value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? {} : JSON.parse(text);
  } catch (error) {
    throw new TemplateRenderException(name, `the data is not plain JSON (${(error as Error).message})`);
  }
}

function canonicalLang(name: string, lang: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(lang);
    if (canonical) return canonical;
  } catch {
    // reported below
  }
  throw new TemplateRenderException(name, `"${lang}" is not a language tag such as en or sv-SE`);
}

/**
 * Handlebars' parser (jison) throws a plain Error whose message says the line ("Parse error on line 3: …") and
 * whose lexer still holds the position of the offending token; read both. Parsing is synchronous, so the shared
 * lexer's position is this parse's.
 */
function parseException(
  error: Error & { lineNumber?: number; column?: number },
  at: (line: number, column0: number) => TemplateLocation,
  hb: typeof Handlebars,
): TemplateSyntaxException {
  // Mismatched blocks ("if doesn't match each") are Handlebars exceptions that carry their location.
  if (error.lineNumber !== undefined)
    return new TemplateSyntaxException(at(error.lineNumber, error.column ?? 0), error.message.replace(/ - \d+:\d+$/, ''));
  const lexer = (hb as unknown as { Parser?: { lexer?: { yylloc?: { first_line: number; first_column: number } } } }).Parser?.lexer;
  const loc = lexer?.yylloc;
  const fromMessage = /line (\d+)/.exec(error.message);
  const line = fromMessage ? Number(fromMessage[1]) : (loc?.first_line ?? 1);
  const column0 = loc && loc.first_line === line ? loc.first_column : 0;
  const lines = error.message.split('\n');
  const reason = lines.length > 1 ? `parse error: ${lines[lines.length - 1]}` : error.message;
  return new TemplateSyntaxException(at(line, column0), reason);
}
