import jsonata from 'jsonata';
import { ExpressionEvaluationError, ExpressionLimitError, ExpressionSyntaxError, type SourceLocation } from './expression.errors';
import { readsOfAst } from './expression-reads';

export { ExpressionEvaluationError, ExpressionLimitError, ExpressionSyntaxError } from './expression.errors';
export type { ExpressionLimitKind, SourceLocation } from './expression.errors';

/**
 * Guardrails for one evaluation. `Infinity` switches a limit off.
 *
 * - `timeout`: wall-clock milliseconds from the start of the evaluation.
 * - `depth`: nesting of evaluation steps (each recursive call of a non-tail-recursive function adds several).
 * - `sequence`: items in any sequence the expression builds (ranges, paths, `$append`) and in the result.
 * - `size`: bytes of the result as JSON.
 */
export interface ExpressionLimits {
  timeout: number;
  depth: number;
  sequence: number;
  size: number;
}

/** Limits used when an evaluation does not pass its own. */
export const DEFAULT_EXPRESSION_LIMITS: Readonly<ExpressionLimits> = Object.freeze({
  timeout: 100,
  depth: 200,
  sequence: 10_000,
  size: 100_000,
});

/** A jsonata expression parsed once, to be evaluated many times (concurrently, too) under guardrails. */
export interface CompiledExpression {
  readonly source: string;
  /**
   * Evaluates against `input` with `bindings` as `$name` variables. `$now()` and `$millis()` are fixed for
   * the whole evaluation; pass {@link clockBindings} to set them.
   * @throws ExpressionLimitError when a guardrail stops the evaluation
   * @throws ExpressionEvaluationError when jsonata reports an error (type errors, bad arguments, ...)
   */
  evaluate(input: unknown, bindings?: Record<string, unknown>, limits?: Partial<ExpressionLimits>): Promise<unknown>;
}

/** How many distinct sources stay compiled; the least recently used go first. */
const CACHE_LIMIT = 5000;
/** Distinct limit combinations kept per expression (each is one jsonata instance; see below). */
const VARIANT_LIMIT = 8;

const cache = new Map<string, GuardedExpression>();

/**
 * Parses a jsonata expression, or returns the one already compiled from the same source.
 * @throws ExpressionSyntaxError with the position, line and column of the offending token
 */
export function compileExpression(source: string): CompiledExpression {
  return compileGuarded(source);
}

/**
 * The top-level field names an expression reads from its input, for formula dependency graphs:
 * bare names at the start of a path evaluated against the record (`status`, `lines` in
 * `$sum(lines.price)`), and the first name after `$record.`, `$old.`, `$$.` or a root `$.`.
 *
 * Limits: names under other contexts (`lines.price` reads only `lines`) are not reported; neither are
 * reads of the whole record (`*`, `**`, `$keys($record)`, `$lookup($record, $name)`), names built at
 * runtime, or names read through user variables (`($r := $record; $r.x)`). Lambda bodies are read as if
 * run against the record, so a name inside one may be reported although it is only read from its argument.
 * @throws ExpressionSyntaxError when the source does not parse
 */
export function expressionReads(source: string): string[] {
  return readsOfAst(compileGuarded(source).ast());
}

/**
 * `$now()` and `$millis()` fixed at `now`, as bindings for {@link CompiledExpression.evaluate}, so every
 * expression of one save sees the same instant. `$now(picture, timezone)` formats like jsonata's own.
 */
export function clockBindings(now: Date): { now: (picture?: unknown, timezone?: unknown) => unknown; millis: () => number } {
  const millis = now.getTime();
  return {
    now: (picture?: unknown, timezone?: unknown) =>
      picture === undefined && timezone === undefined ? new Date(millis).toISOString() : formatMillis(millis, picture, timezone),
    millis: () => millis,
  };
}

function compileGuarded(source: string): GuardedExpression {
  const hit = cache.get(source);
  if (hit) {
    // Re-insert so the Map's order is least recently used first.
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const compiled = new GuardedExpression(source, parse(source, DEFAULT_EXPRESSION_LIMITS));
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, compiled);
  return compiled;
}

/**
 * jsonata 2.2 enforces `timeout`, `stack` and `sequence` itself, keeping the start time and depth in
 * each evaluation's own frame, so concurrent evaluations of one expression never share them. The
 * options are fixed when an expression is parsed, hence one jsonata instance per distinct limits.
 */
class GuardedExpression implements CompiledExpression {
  private readonly variants = new Map<string, jsonata.Expression>();

  constructor(
    readonly source: string,
    private readonly defaultVariant: jsonata.Expression,
  ) {
    this.variants.set(variantKey(DEFAULT_EXPRESSION_LIMITS), defaultVariant);
  }

  ast(): unknown {
    return this.defaultVariant.ast();
  }

  async evaluate(input: unknown, bindings: Record<string, unknown> = {}, overrides?: Partial<ExpressionLimits>): Promise<unknown> {
    const limits = overrides ? { ...DEFAULT_EXPRESSION_LIMITS, ...overrides } : DEFAULT_EXPRESSION_LIMITS;
    const expression = limits === DEFAULT_EXPRESSION_LIMITS ? this.defaultVariant : this.variant(limits);
    // jsonata's own $now() reads a timestamp shared by all evaluations of an expression; ours is per call.
    const scope = 'now' in bindings || 'millis' in bindings ? bindings : { ...clockBindings(new Date()), ...bindings };
    let result: unknown;
    enterEvaluation();
    try {
      result = await expression.evaluate(input, scope);
    } catch (error) {
      throw translateError(error, limits, this.source);
    } finally {
      leaveEvaluation();
    }
    checkResult(result, limits);
    return result;
  }

  private variant(limits: ExpressionLimits): jsonata.Expression {
    const key = variantKey(limits);
    let variant = this.variants.get(key);
    if (!variant) {
      if (this.variants.size >= VARIANT_LIMIT) this.variants.delete([...this.variants.keys()][1]);
      variant = parse(this.source, limits);
      this.variants.set(key, variant);
    }
    return variant;
  }
}

function variantKey(limits: ExpressionLimits): string {
  return `${limits.timeout}/${limits.depth}/${limits.sequence}`;
}

function parse(source: string, limits: ExpressionLimits): jsonata.Expression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, { timeout: limits.timeout, stack: limits.depth, sequence: limits.sequence });
  } catch (error) {
    throw toSyntaxError(source, error);
  }
  // Internal hook (jsonata's test-suite timebox uses it); our specs fail loudly if an upgrade drops it.
  expression.assign(EVALUATE_ENTRY as unknown as string, onEvaluateEntry);
  return expression;
}

// ---- Keeping the event loop responsive -------------------------------------------------------------
// jsonata awaits every step, but awaiting resolved promises only runs microtasks: a long evaluation
// would starve timers and I/O until it ends. The entry hook hands the loop a turn every ~10 ms of
// evaluation; the counter keeps the clock read off the hot path. The state is global on purpose: it
// measures how long *any* evaluation has held the loop, not one in particular.
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');
const SLICE_MS = 10;
const STEPS_PER_CLOCK_READ = 64;
let running = 0;
let sliceStart = 0;
let steps = 0;

function enterEvaluation(): void {
  if (running++ === 0) sliceStart = Date.now();
}

function leaveEvaluation(): void {
  running--;
}

function onEvaluateEntry(): Promise<void> | undefined {
  if (++steps < STEPS_PER_CLOCK_READ) return undefined;
  steps = 0;
  if (Date.now() - sliceStart < SLICE_MS) return undefined;
  return new Promise((resolve) =>
    setImmediate(() => {
      sliceStart = Date.now();
      resolve();
    }),
  );
}

// ---- Errors and results ------------------------------------------------------------------------------

interface JsonataFailure {
  code: string;
  message?: string;
  position?: number;
  token?: unknown;
}

/** jsonata throws plain objects with a code such as T2001; errors from bound functions are left alone. */
function isJsonataFailure(error: unknown): error is JsonataFailure {
  return typeof error === 'object' && error !== null && /^[A-Z]\d{4}$/.test(String((error as JsonataFailure).code));
}

function toSyntaxError(source: string, error: unknown): unknown {
  if (!isJsonataFailure(error)) return error;
  const token = error.token;
  let reason = error.message ?? `jsonata error ${error.code}`;
  // jsonata's generic wording ("Syntax error: )") says little; name the token instead.
  if (reason === `Syntax error: ${String(token)}`) reason = `unexpected ${JSON.stringify(token)}`;
  return new ExpressionSyntaxError(source, error.code, reason, locate(source, error) ?? locationAt(source, 0));
}

function translateError(error: unknown, limits: ExpressionLimits, source: string): unknown {
  if (!isJsonataFailure(error)) return error;
  switch (error.code) {
    case 'D1012':
      return new ExpressionLimitError('timeout', `the expression ran longer than ${limits.timeout} ms`);
    case 'D1011':
      return new ExpressionLimitError(
        'depth',
        `the expression nested deeper than ${limits.depth} evaluation steps; does a recursive function lack a base case?`,
      );
    case 'D2014':
    case 'D2015':
      return new ExpressionLimitError('sequence', `the expression built a sequence of more than ${Math.min(limits.sequence, 1e7)} items`);
    default:
      return new ExpressionEvaluationError(error.code, error.message ?? `jsonata error ${error.code}`, locate(source, error));
  }
}

/** jsonata positions point just past the offending token; report where the token starts. */
function locate(source: string, error: JsonataFailure): SourceLocation | undefined {
  if (typeof error.position !== 'number') return undefined;
  const token = error.token;
  const length = token === undefined || token === '(end)' ? 0 : String(token).length;
  return locationAt(source, Math.max(0, Math.min(source.length, error.position - length)));
}

function locationAt(source: string, position: number): SourceLocation {
  const before = source.slice(0, position);
  const line = before.split('\n').length;
  return { position, line, column: position - (before.lastIndexOf('\n') + 1) + 1 };
}

function checkResult(result: unknown, limits: ExpressionLimits): void {
  if (result === undefined || result === null || typeof result === 'number' || typeof result === 'boolean') return;
  // Sequences are capped while they grow; arrays built by functions ($split, $map of arrays) only here.
  if (Array.isArray(result) && result.length > limits.sequence) {
    throw new ExpressionLimitError('sequence', `the result has ${result.length} items; at most ${limits.sequence} are allowed`);
  }
  // A JSON string takes at most 6 bytes per UTF-16 unit (\u escapes): skip the exact count when that fits.
  if (typeof result === 'string' && result.length * 6 + 2 <= limits.size) return;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch {
    throw new ExpressionEvaluationError('D0000', 'the result is not JSON data (a function or a cyclic structure)', undefined);
  }
  const bytes = json === undefined ? 0 : Buffer.byteLength(json);
  if (bytes > limits.size) {
    throw new ExpressionLimitError('size', `the result is ${bytes} bytes of JSON; at most ${limits.size} are allowed`);
  }
}

// $now(picture, timezone) is rare; a fixed, trivial expression formats it with jsonata's own $fromMillis.
let fromMillis: jsonata.Expression | undefined;
async function formatMillis(millis: number, picture: unknown, timezone: unknown): Promise<unknown> {
  fromMillis ??= jsonata('$fromMillis($millis, $picture, $timezone)');
  return fromMillis.evaluate(null, { millis, picture: picture ?? undefined, timezone: timezone ?? undefined });
}
