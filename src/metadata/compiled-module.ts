import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { compileFormulas, NO_FORMULAS, type CompiledFormulas } from '../formulas/formula.compiler';
import { buildRecordSchema } from '../records/record-schema.builder';
import { compileRules, NO_RULES, type CompiledRules } from '../rules/rule.engine';
import type { RuleDefinition } from '../rules/rule.types';
import type { LayoutDefinition } from './layout.types';
import type { FieldDefinition, FieldType, ModuleDefinition } from './metadata.types';

/** A relation value somewhere in a record: a top-level field, or a field of the rows of a lines field. */
export interface RelationPath {
  field: string;
  target: string;
  /** Set when the relation sits in the rows of this lines field. */
  lines?: string;
}

/** Field types whose values are searched by `q=`. */
const SEARCHABLE: ReadonlySet<FieldType> = new Set(['text', 'textarea', 'email', 'phone', 'url', 'autonumber']);

/**
 * Everything the runtime needs about one module, derived once per metadata
 * version: validators, defaults, relation paths, tracked fields. Read-only.
 */
export interface CompiledModule {
  readonly name: string;
  readonly definition: ModuleDefinition;
  /** The metadata version this module was compiled from. */
  readonly version: number;
  readonly fields: ReadonlyMap<string, FieldDefinition>;
  /** Types, lengths, ranges, options and unknown fields of client input (required-ness is the rules' call). */
  readonly validateInput: ValidateFunction;
  readonly rules: CompiledRules;
  readonly formulas: CompiledFormulas;
  readonly layout?: LayoutDefinition;
  readonly defaults: ReadonlyArray<readonly [string, unknown]>;
  readonly relations: readonly RelationPath[];
  readonly trackedFields: readonly string[];
  readonly autonumberFields: ReadonlyArray<{ field: string; prefix: string; padding: number }>;
  readonly numbering: { prefix: string; padding: number };
  readonly searchFields: readonly string[];
  readonly richtextFields: readonly string[];
  readonly datetimeFields: readonly string[];
}

/** One ajv instance per compilation batch (a metadata snapshot), so old validators are freed with it. */
export function createRecordAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
  addFormats(ajv);
  return ajv;
}

/** What a module is compiled from: its definition plus its optional layout and rules. */
export interface ModuleBundle {
  definition: ModuleDefinition;
  layout?: LayoutDefinition;
  rules?: RuleDefinition[];
  /** Changes whenever any part of the bundle does. */
  version: number;
}

export function compileModule(
  { definition, layout, rules, version }: ModuleBundle,
  modules: ReadonlyMap<string, ModuleDefinition>,
  ajv: Ajv2020,
): CompiledModule {
  const entries = Object.entries(definition.fields);
  const relations: RelationPath[] = [];
  for (const [field, def] of entries) {
    if (def.type === 'relation' && def.module) relations.push({ field, target: def.module });
    if (def.type === 'lines') {
      for (const [lineField, lineDef] of Object.entries(def.fields ?? {})) {
        if (lineDef.type === 'relation' && lineDef.module) relations.push({ field: lineField, target: lineDef.module, lines: field });
      }
    }
  }
  const ofType = (...types: FieldType[]) => entries.filter(([, f]) => types.includes(f.type)).map(([name]) => name);
  return {
    name: definition.name,
    definition,
    version,
    fields: new Map(entries),
    validateInput: ajv.compile(buildRecordSchema(definition, 'update')),
    rules: rules ? compileRules(rules, definition) : NO_RULES,
    formulas: hasFormulas(definition) ? compileFormulas(definition, modules).formulas : NO_FORMULAS,
    layout,
    defaults: entries.filter(([, f]) => f.default !== undefined).map(([name, f]) => [name, f.default] as const),
    relations,
    trackedFields: entries.filter(([, f]) => f.trackChanges).map(([name]) => name),
    autonumberFields: entries
      .filter(([, f]) => f.type === 'autonumber')
      .map(([name, f]) => ({ field: name, prefix: f.prefix ?? '', padding: f.padding ?? 0 })),
    numbering: { prefix: definition.numbering?.prefix ?? '', padding: definition.numbering?.padding ?? 0 },
    searchFields: entries.filter(([, f]) => SEARCHABLE.has(f.type)).map(([name]) => name),
    richtextFields: ofType('richtext'),
    datetimeFields: ofType('datetime'),
  };
}

function hasFormulas(definition: ModuleDefinition): boolean {
  return Object.values(definition.fields).some(
    (f) => f.formula !== undefined || f.defaultFormula !== undefined || Object.values(f.fields ?? {}).some((l) => l.formula !== undefined),
  );
}
