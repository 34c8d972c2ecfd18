import type { MetadataProblem, ModuleDefinition } from './metadata.types';
import type { MetadataFile } from './metadata-files';
import { readJsonSource } from './json-source';
import { checkModuleSchema } from './module-schema';
import { checkModuleSemantics, moduleFolderOf, type ModuleSource } from './module-semantics';

/** The outcome of validating a set of modules. */
export interface ModuleValidationResult {
  /** The modules whose file has no problem, in input order. Use them only when `problems` is empty. */
  modules: ModuleDefinition[];
  /** Every problem found, grouped by file in input order. */
  problems: MetadataProblem[];
}

/**
 * Validates module files as they are on disk: JSON syntax (with line and column), duplicate keys,
 * the JSON Schema (`metadata/schema/module.schema.json`) and the checks across modules.
 * Relations are resolved against the files given, so pass the whole set of modules.
 */
export function validateModules(files: MetadataFile[]): ModuleValidationResult {
  const problems: MetadataProblem[] = [];
  const sources: ModuleSource[] = [];
  const unreadable: string[] = [];

  for (const { file, text } of files) {
    const result = readJsonSource(text);
    for (const duplicate of result.duplicateKeys) {
      problems.push({
        file,
        pointer: duplicate.pointer,
        message: `duplicate key ${JSON.stringify(duplicate.key)} at line ${duplicate.line}, column ${duplicate.column}; JSON keeps only the last one, so remove or rename one of them`,
      });
    }
    if (result.syntaxError) {
      const { line, column, message } = result.syntaxError;
      problems.push({ file, pointer: '', message: `invalid JSON at line ${line}, column ${column}: ${message}` });
      // Its name is probably its folder's; knowing it avoids "unknown module" reports in the other files.
      const folder = moduleFolderOf(file);
      if (folder) unreadable.push(folder);
      continue;
    }
    sources.push({ file, body: result.value });
  }

  const checked = checkSources(sources, unreadable);
  return {
    modules: checked.modules.filter((_, i) => !problems.some((p) => p.file === checked.files[i])),
    problems: sortByFile(
      [...problems, ...checked.problems],
      files.map((f) => f.file),
    ),
  };
}

/**
 * Validates modules that are already parsed, e.g. a module sent to the admin API: the schema and the
 * checks across modules, exactly as for files. `file` names where the body belongs
 * (`modules/accounts/module.json`); include the other active modules so relations to them resolve.
 */
export function validateModuleSet(definitions: Array<{ file: string; body: unknown }>): ModuleValidationResult {
  const checked = checkSources(definitions, []);
  return {
    modules: checked.modules,
    problems: sortByFile(
      checked.problems,
      definitions.map((d) => d.file),
    ),
  };
}

/** One line per problem, `file#pointer: message`, for logs and the command line. */
/** One line per problem: `file#/pointer: message`, or `file:line:column: message` inside a template's text. */
export function formatProblems(problems: MetadataProblem[]): string {
  return problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : `#${p.pointer}`}: ${p.message}`).join('\n');
}

function checkSources(
  sources: ModuleSource[],
  unreadableModules: string[],
): { modules: ModuleDefinition[]; files: string[]; problems: MetadataProblem[] } {
  const problems: MetadataProblem[] = [];
  for (const { file, body } of sources) problems.push(...checkModuleSchema(file, body));
  problems.push(...checkModuleSemantics(sources, unreadableModules));

  const failed = new Set(problems.map((p) => p.file));
  const clean = sources.filter((s) => !failed.has(s.file));
  return {
    // The schema has checked the shape, so the cast only names what is already true.
    modules: clean.map((s) => s.body as ModuleDefinition),
    files: clean.map((s) => s.file),
    problems,
  };
}

/** Groups problems by file in the order the files were given, keeping each file's order of discovery. */
function sortByFile(problems: MetadataProblem[], fileOrder: string[]): MetadataProblem[] {
  const rank = new Map<string, number>();
  fileOrder.forEach((file, i) => {
    if (!rank.has(file)) rank.set(file, i);
  });
  // Array.prototype.sort is stable, so the order within one file is kept.
  return [...problems].sort((a, b) => (rank.get(a.file) ?? Infinity) - (rank.get(b.file) ?? Infinity));
}
