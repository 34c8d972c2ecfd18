import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { TemplateSyntaxException, type TemplateLocation } from '../templates/template.exception';
import type { LabelMap } from '../templates/template.helpers';

/** What a document template says about itself in its first comment. */
export interface DocumentHeader {
  /** The module whose records the template prints (`invoices`). */
  module: string;
  /** The template's own words per language, read with `{{label "key"}}`: `{ "title": { "en": "Invoice", "sv": "Faktura" } }`. */
  texts: LabelMap;
  /** Where the module name stands in the file, for a problem about the module (one that does not exist, say). */
  moduleLocation: TemplateLocation;
}

/**
 * A document template starts with a Handlebars comment holding a JSON object:
 *
 *     {{! document: { "module": "invoices", "texts": { "title": { "en": "Invoice", "sv": "Faktura" } } } }}
 *
 * in the short comment form (what Prettier writes) or the long one (`{{!-- document: … --}}`). The comment renders
 * as nothing, so the whole file compiles as the template and error lines are the file's.
 */
const HEADER = /^(?:\{\{!--[ \t]*document:([\s\S]*?)--\}\}|\{\{![ \t]*document:([\s\S]*?)\}\})/;
const MODULE_NAME = /^[a-z][a-z0-9_]{0,47}$/;
const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const KEYS = new Set(['module', 'texts']);

/** 1-based line and column of `offset` in `text`. */
export function locate(file: string, text: string, offset: number): TemplateLocation {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { file, line, column: offset - before.lastIndexOf('\n') };
}

/** Reads the header of document template `file`; a missing or malformed one is a syntax error with line and column. */
export function parseDocumentHeader(file: string, text: string): DocumentHeader {
  const match = HEADER.exec(text);
  if (!match) {
    throw new TemplateSyntaxException(
      { file, line: 1, column: 1 },
      'a document template starts with {{! document: { "module": "<module name>" } }} naming the module it prints',
    );
  }
  const json = match[1] ?? match[2];
  const start = match[0].indexOf(json);
  const fail = (offset: number, reason: string): never => {
    throw new TemplateSyntaxException(locate(file, text, start + offset), `document header: ${reason}`);
  };
  const errors: ParseError[] = [];
  const header: unknown = parse(json, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0) fail(errors[0].offset, `not valid JSON (${printParseErrorCode(errors[0].error)})`);
  const at = (needle: string) => Math.max(0, json.indexOf(needle));
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail(0, 'must be a JSON object');
  const body = header as Record<string, unknown>;
  for (const key of Object.keys(body)) if (!KEYS.has(key)) fail(at(`"${key}"`), `unknown key "${key}" (use module and texts)`);
  if (typeof body.module !== 'string' || !MODULE_NAME.test(body.module)) {
    fail(at('"module"'), '"module" must name the module the template prints, like "invoices"');
  }
  const texts: LabelMap = Object.create(null) as LabelMap;
  if (body.texts !== undefined) {
    if (typeof body.texts !== 'object' || body.texts === null || Array.isArray(body.texts)) {
      fail(at('"texts"'), '"texts" must be an object of texts per language, like { "title": { "en": "Invoice" } }');
    }
    for (const [key, perLang] of Object.entries(body.texts as Record<string, unknown>)) {
      const bad = () => fail(at(`"${key}"`), `texts.${key} must be a text or an object of texts per language, like { "en": "Invoice" }`);
      if (typeof perLang === 'string') {
        texts[key] = perLang;
        continue;
      }
      if (typeof perLang !== 'object' || perLang === null || Array.isArray(perLang)) bad();
      const entry: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [lang, value] of Object.entries(perLang as Record<string, unknown>)) {
        if (!LANG.test(lang) || typeof value !== 'string') bad();
        entry[lang] = value as string;
      }
      texts[key] = entry;
    }
  }
  const moduleNode = findNodeAtLocation(parseTree(json)!, ['module']);
  const moduleLocation = locate(file, text, start + (moduleNode?.offset ?? at('"module"')));
  return { module: body.module as string, texts, moduleLocation };
}
