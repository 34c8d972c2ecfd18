import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { findProjectRoot } from './metadata-files';
import type { MetadataProblem } from './metadata.types';

const validators = new Map<string, ValidateFunction>();

/**
 * A validator for one of the metadata schemas in `metadata/schema/`, compiled once
 * per process with every sibling schema registered, so `$ref: "condition.schema.json"`
 * resolves exactly as it does in an editor.
 */
export function metadataSchemaValidator(fileName: string): ValidateFunction {
  const cached = validators.get(fileName);
  if (cached) return cached;
  const dir = join(findProjectRoot(), 'metadata', 'schema');
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  for (const sibling of ['condition.schema.json']) {
    if (sibling !== fileName) ajv.addSchema(JSON.parse(readFileSync(join(dir, sibling), 'utf8')) as object);
  }
  const validate = ajv.compile(JSON.parse(readFileSync(join(dir, fileName), 'utf8')) as object);
  validators.set(fileName, validate);
  return validate;
}

/** ajv errors as metadata problems: the JSON pointer of the offending value and a readable message. */
export function schemaProblems(file: string, errors: ErrorObject[] | null | undefined): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    // anyOf/oneOf/if only summarise the branch errors reported beside them.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    let pointer = error.instancePath;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      pointer = `${pointer}/${String(error.params.additionalProperty)}`;
      message = `unknown property "${String(error.params.additionalProperty)}"`;
    } else if (error.keyword === 'required') {
      message = `missing required property "${String(error.params.missingProperty)}"`;
    } else if (error.keyword === 'enum') {
      message = `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${pointer}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file, pointer, message });
  }
  return problems;
}
