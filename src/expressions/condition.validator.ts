import { NAME_PATTERN, RESERVED_FIELD_NAMES, type FieldDefinition, type ModuleDefinition } from '../metadata/metadata.types';
import { checkConditionSchema } from './condition-schema';
import { closestName, describeValue } from './condition-text';
import { CONDITION_OPS, NUMERIC_TYPES, opsForType, VALUELESS_OPS, type ConditionOp, type ConditionProblem } from './condition.types';
import { compileExpression, expressionReads, ExpressionSyntaxError } from './jsonata.runner';

type JsonObject = Record<string, unknown>;

const NAME = new RegExp(NAME_PATTERN);
const SYSTEM_PROPERTIES: ReadonlySet<string> = new Set(RESERVED_FIELD_NAMES);

/**
 * Checks a condition from metadata: its shape against `condition.schema.json`, then its meaning
 * against the module (fields exist, operators fit their types, values fit the fields, expressions
 * parse and read known fields). `pointer` is where the condition sits in its file, e.g. `/0/when`;
 * each problem's pointer continues it (`/0/when/all/1/value`).
 */
export function validateCondition(condition: unknown, module: ModuleDefinition, pointer: string): ConditionProblem[] {
  const problems = checkConditionSchema(condition, pointer);
  checkNode(condition, module, pointer, problems);
  return problems;
}

// Only what the schema cannot know; a node the schema already faulted is skipped where it would repeat.
function checkNode(node: unknown, module: ModuleDefinition, pointer: string, problems: ConditionProblem[]): void {
  if (!isObject(node)) return;
  for (const kind of ['all', 'any'] as const) {
    const children = node[kind];
    if (Array.isArray(children)) children.forEach((child, i) => checkNode(child, module, `${pointer}/${kind}/${i}`, problems));
  }
  if ('not' in node) checkNode(node.not, module, `${pointer}/not`, problems);
  if (typeof node.expression === 'string' && node.expression.trim() !== '') {
    checkExpression(node.expression, module, `${pointer}/expression`, problems);
  }
  const { field, op } = node;
  if (typeof field === 'string' && NAME.test(field) && CONDITION_OPS.includes(op as ConditionOp)) {
    checkField(node, field, op as ConditionOp, module, pointer, problems);
  }
}

function checkExpression(source: string, module: ModuleDefinition, pointer: string, problems: ConditionProblem[]): void {
  try {
    compileExpression(source);
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    problems.push({ pointer, message: error.message });
    return;
  }
  // A misspelt name in jsonata quietly reads nothing; catch it here rather than as a rule that never fires.
  for (const name of expressionReads(source)) {
    if (hasField(module, name) || SYSTEM_PROPERTIES.has(name)) continue;
    problems.push({ pointer, message: `reads ${JSON.stringify(name)}, which is not a field of ${module.name}${suggest(name, module)}` });
  }
}

function checkField(
  node: JsonObject,
  field: string,
  op: ConditionOp,
  module: ModuleDefinition,
  pointer: string,
  problems: ConditionProblem[],
): void {
  if (!hasField(module, field)) {
    problems.push({
      pointer: `${pointer}/field`,
      message: `${JSON.stringify(field)} is not a field of ${module.name}${suggest(field, module)}`,
    });
    return;
  }
  const definition = module.fields[field];
  const allowed = opsForType(definition.type);
  if (!allowed.includes(op)) {
    problems.push({
      pointer: `${pointer}/op`,
      message: `${JSON.stringify(op)} does not apply to ${field} (${withArticle(definition.type)} field); use one of ${allowed.join(', ')}`,
    });
    return;
  }
  if (VALUELESS_OPS.has(op) || !('value' in node)) return; // the schema reports a missing or extra value
  const at = `${pointer}/value`;
  const value = node.value;
  if (!isLiteral(value) && !(Array.isArray(value) && value.every(isLiteral))) return; // the schema reports it
  const report = (where: string, message: string) => problems.push({ pointer: where, message });
  if (op === 'in' || op === 'nin') {
    if (Array.isArray(value)) value.forEach((item, i) => checkScalar(definition, field, item, `${at}/${i}`, report));
    return;
  }
  if (definition.type === 'multipicklist' && op !== 'contains') {
    if (!Array.isArray(value)) {
      report(
        at,
        `${op} on a multipicklist compares the whole selection: give a list of options such as ${JSON.stringify([value])}, or use contains to test one option`,
      );
      return;
    }
    value.forEach((item, i) => checkScalar(definition, field, item, `${at}/${i}`, report));
    return;
  }
  if (Array.isArray(value)) {
    report(at, `must be a single value; use "in" to compare with a list`);
    return;
  }
  if ((op === 'contains' || op === 'startsWith') && definition.type !== 'multipicklist') {
    if (typeof value !== 'string') report(at, `must be text (got ${describeValue(value)})`);
    return;
  }
  checkScalar(definition, field, value, at, report);
}

/** Whether one literal fits the field: numbers for numeric fields, real dates, picklist options, ... */
function checkScalar(
  definition: FieldDefinition,
  field: string,
  value: unknown,
  pointer: string,
  report: (pointer: string, message: string) => void,
): void {
  const got = `(got ${describeValue(value)})`;
  const type = definition.type;
  if (NUMERIC_TYPES.has(type)) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      report(pointer, `must be a number, ${field} is ${withArticle(type)} field ${got}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') report(pointer, `must be true or false, ${field} is a boolean field ${got}`);
  } else if (type === 'date') {
    if (!isDate(value)) report(pointer, `must be a date written YYYY-MM-DD, e.g. "2025-01-31" ${got}`);
  } else if (type === 'datetime') {
    if (!isInstant(value))
      report(pointer, `must be a date (YYYY-MM-DD) or an instant with a time zone, e.g. "2025-01-31T12:00:00Z" ${got}`);
  } else if (type === 'picklist' || type === 'multipicklist') {
    const options = definition.options ?? [];
    if (typeof value !== 'string' || !options.includes(value)) {
      const suggestion = typeof value === 'string' ? closestName(value, options) : undefined;
      report(
        pointer,
        `${JSON.stringify(value)} is not an option of ${field}` +
          (suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '') +
          `; options: ${options.join(', ')}`,
      );
    }
  } else if (typeof value !== 'string') {
    report(pointer, `must be text, ${field} is ${withArticle(type)} field ${got}`);
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function isDate(value: unknown): boolean {
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2025-02-30 over to March; a real date survives the round trip.
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isInstant(value: unknown): boolean {
  if (isDate(value)) return true;
  return typeof value === 'string' && INSTANT.test(value) && isDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

function isLiteral(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function hasField(module: ModuleDefinition, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(module.fields, name);
}

function suggest(name: string, module: ModuleDefinition): string {
  const suggestion = closestName(name, Object.keys(module.fields));
  return suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '';
}

function withArticle(word: string): string {
  return (/^[aeio]/.test(word) ? 'an ' : 'a ') + word;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
