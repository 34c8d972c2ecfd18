import { printParseErrorCode, visit, type JSONPath } from 'jsonc-parser';

/** A JSON text read strictly: either its value, or where and why it is not JSON. */
export interface JsonSourceResult {
  /** The parsed value; undefined when the text has a syntax error. */
  value?: unknown;
  /** The first syntax error, with 1-based line and column. */
  syntaxError?: { line: number; column: number; message: string };
  /** Keys that occur twice in one object: JSON.parse silently keeps the last, so an admin loses an edit. */
  duplicateKeys: Array<{ pointer: string; key: string; line: number; column: number }>;
}

// Readable text per jsonc-parser error code (a const enum, so we match on its printed name).
const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes (trailing commas are not allowed)',
  ValueExpected: 'expected a value (trailing commas are not allowed)',
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' or a closing bracket",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected content after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape sequence in string',
  InvalidCharacter: 'control character in string; escape it (e.g. \\n, \\t)',
};

/** Escapes one JSON pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`). */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds an RFC 6901 JSON pointer from path segments; the empty path is `""`. */
export function toPointer(path: ReadonlyArray<string | number>): string {
  return path.map((segment) => '/' + escapePointerSegment(segment)).join('');
}

/**
 * Reads a JSON text strictly (no comments, no trailing commas) and finds duplicate keys,
 * which `JSON.parse` accepts silently.
 */
export function readJsonSource(text: string): JsonSourceResult {
  // Editors on Windows may save a byte order mark; it is not a JSON error worth failing on.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (source.trim() === '') {
    return {
      syntaxError: { line: 1, column: 1, message: 'the file is empty; it must hold one JSON object' },
      duplicateKeys: [],
    };
  }
  let syntaxError: JsonSourceResult['syntaxError'];
  const duplicateKeys: JsonSourceResult['duplicateKeys'] = [];
  const keysPerObject: Array<Set<string>> = [];

  visit(
    source,
    {
      onObjectBegin: () => {
        keysPerObject.push(new Set());
      },
      onObjectEnd: () => {
        keysPerObject.pop();
      },
      onObjectProperty: (key, _offset, _length, startLine, startCharacter, pathSupplier) => {
        const keys = keysPerObject[keysPerObject.length - 1];
        if (!keys) return;
        if (keys.has(key)) {
          const path: JSONPath = [...pathSupplier(), key];
          duplicateKeys.push({ pointer: toPointer(path), key, line: startLine + 1, column: startCharacter + 1 });
        }
        keys.add(key);
      },
      onError: (code, _offset, _length, startLine, startCharacter) => {
        // Only the first error: after it the parser recovers by guessing, and the rest is mostly noise.
        if (syntaxError) return;
        const name = printParseErrorCode(code);
        syntaxError = { line: startLine + 1, column: startCharacter + 1, message: SYNTAX_MESSAGES[name] ?? name };
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );

  if (syntaxError) return { syntaxError, duplicateKeys };
  try {
    return { value: JSON.parse(source), duplicateKeys };
  } catch (error) {
    // jsonc-parser and JSON.parse should agree; keep a readable answer if they ever do not.
    return { syntaxError: { line: 1, column: 1, message: (error as Error).message }, duplicateKeys };
  }
}
