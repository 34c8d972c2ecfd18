import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { escapePointerSegment } from '../metadata/json-source';
import { findProjectRoot } from '../metadata/metadata-files';
import { getAt } from '../metadata/module-schema';
import { CONDITION_OPS, type ConditionProblem } from './condition.types';
import { closestName, describeValue } from './condition-text';

/** Path of the condition schema, relative to the project root. */
export const CONDITION_SCHEMA_PATH = 'metadata/schema/condition.schema.json';

const KINDS = ['all', 'any', 'not', 'field', 'expression'];
const PROPERTIES = [...KINDS, 'op', 'value'];
const SCALAR = 'a string, a number or true/false';

let validator: ValidateFunction | undefined;

/** Checks a condition against the JSON Schema; pointers are `pointer` followed by the path inside it. */
export function checkConditionSchema(condition: unknown, pointer: string): ConditionProblem[] {
  // Compiled once per process (ajv compilation dominates validation time). strictRequired stays off
  // because `then: { required: ["value"] }` names a property declared beside the if/then (ajv #1950).
  validator ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(
    JSON.parse(readFileSync(join(findProjectRoot(), CONDITION_SCHEMA_PATH), 'utf8')) as object,
  );
  if (validator(condition)) return [];
  return readableProblems(condition, validator.errors ?? []).map((p) => ({ pointer: pointer + p.pointer, message: p.message }));
}

function readableProblems(condition: unknown, errors: ErrorObject[]): ConditionProblem[] {
  // 'if' summarises its then-errors; oneOf/anyOf branch errors are summarised by oneOf/anyOf itself.
  const relevant = errors.filter((e) => e.keyword !== 'if' && !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath));
  const byPath = (keyword: string) => new Set(relevant.filter((e) => e.keyword === keyword).map((e) => e.instancePath));
  const wrongType = byPath('type');
  const unknownProperty = byPath('additionalProperties');
  const problems: ConditionProblem[] = [];
  for (const error of relevant) {
    const path = error.instancePath;
    // Something that is not even an object: its type is the one thing to fix.
    if (wrongType.has(path) && error.keyword !== 'type') continue;
    // A misspelt key explains the rest ("feld" → no field, so op lacks its field and no kind matches).
    if (unknownProperty.has(path) && (error.keyword === 'oneOf' || error.keyword === 'dependentRequired')) continue;
    const problem = describe(condition, error);
    if (problem) problems.push(problem);
  }
  return problems;
}

function describe(condition: unknown, error: ErrorObject): ConditionProblem | undefined {
  const path = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const at = (pointer: string, message: string) => ({ pointer, message });
  const node = getAt(condition, path) as Record<string, unknown>;

  switch (error.keyword) {
    case 'oneOf': {
      const passing = params.passingSchemas as number[] | null;
      if (!passing) {
        // An op or value without a field is reported by dependentRequired, more precisely.
        if ('op' in node || 'value' in node) return undefined;
        return at(path, `a condition needs one of ${KINDS.map((k) => JSON.stringify(k)).join(', ')}`);
      }
      const [first, second] = passing.map((i) => JSON.stringify(KINDS[i]));
      return at(path, `combines ${first} and ${second}; write them as separate conditions inside "all" or "any"`);
    }
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      const suggestion = closestName(property, PROPERTIES);
      return at(
        `${path}/${escapePointerSegment(property)}`,
        `unknown property ${JSON.stringify(property)}` +
          (suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '') +
          `; a condition has ${PROPERTIES.map((p) => JSON.stringify(p)).join(', ')}`,
      );
    }
    case 'dependentRequired':
      return params.property === 'field'
        ? at(path, `a field condition needs "op", one of ${CONDITION_OPS.join(', ')}`)
        : at(path, `${JSON.stringify(params.property)} belongs to a field condition; add "field"`);
    case 'required':
      return at(path, `${JSON.stringify(node.op)} needs a "value"`);
    case 'false schema':
      return at(path, `${JSON.stringify(opAt(condition, parent(path)))} takes no value; remove "value"`);
    case 'type':
      if (/\/then\//.test(error.schemaPath)) {
        const op = JSON.stringify(opAt(condition, parent(path)));
        return at(path, `${op} needs a list of values, e.g. ["a", "b"] (got ${describeValue(getAt(condition, path))})`);
      }
      return at(
        path,
        `must be ${params.type === 'object' ? 'a condition object' : article(String(params.type))} (got ${describeValue(getAt(condition, path))})`,
      );
    case 'anyOf':
      return at(
        path,
        /\/items\//.test(error.schemaPath)
          ? `must be ${SCALAR} (got ${describeValue(getAt(condition, path))})`
          : `must be ${SCALAR}, or a list of those (got ${describeValue(getAt(condition, path))})`,
      );
    case 'enum': {
      const suggestion = closestName(String(getAt(condition, path)), [...CONDITION_OPS]);
      return at(
        path,
        `unknown operator ${JSON.stringify(getAt(condition, path))}` +
          (suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '') +
          `; use one of ${CONDITION_OPS.join(', ')}`,
      );
    }
    case 'minItems':
      return at(path, path.endsWith('/value') ? 'must list at least one value' : 'must list at least one condition');
    case 'minLength':
      return at(path, 'must not be empty');
    case 'pattern':
      return at(path, `${JSON.stringify(getAt(condition, path))} is not a field name: fields are lower snake case (a-z, 0-9 and _)`);
    default:
      return at(path, error.message ?? `fails ${error.keyword}`);
  }
}

function article(type: string): string {
  return ({ array: 'an array', string: 'a string', number: 'a number', boolean: 'true or false' } as Record<string, string>)[type] ?? type;
}

function opAt(condition: unknown, pointer: string): unknown {
  return (getAt(condition, pointer) as Record<string, unknown> | undefined)?.op;
}

function parent(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}
