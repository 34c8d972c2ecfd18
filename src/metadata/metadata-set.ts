import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileFormulas } from '../formulas/formula.compiler';
import type { ToolDefinition } from '../tools/tool.types';
import { validateTools } from '../tools/tool.validator';
import type { WorkflowDefinition } from '../workflows/workflow.types';
import { validateWorkflows } from '../workflows/workflow.validator';
import type { RuleDefinition } from '../rules/rule.types';
import { validateRules } from '../rules/rules.validator';
import { readJsonSource } from './json-source';
import { readBundleFiles, type MetadataFile } from './metadata-files';
import type { MetadataProblem, ModuleDefinition } from './metadata.types';
import type { LayoutDefinition } from './layout.types';
import { validateLayouts } from './layout.validator';
import { validateModuleSet } from './module.validator';

/** The kinds of metadata a module bundle holds, each in its own file and versioned on its own. */
export type MetadataKind = 'module' | 'layout' | 'rules' | 'workflow' | 'tool';

/** Where each kind lives in a module bundle; workflows are one file each in `workflows/`. */
export const METADATA_KINDS: Record<MetadataKind, { fileName: string; segment: string }> = {
  module: { fileName: 'module.json', segment: 'modules' },
  layout: { fileName: 'layout.json', segment: 'layouts' },
  rules: { fileName: 'rules.json', segment: 'rules' },
  workflow: { fileName: 'workflows/*.json', segment: 'workflows' },
  tool: { fileName: 'tools/*.json', segment: 'tools' },
};

/** Kinds stored one file per item in a folder of the module bundle, named by the item. */
const FOLDER_KINDS: Partial<Record<MetadataKind, string>> = { workflow: 'workflows', tool: 'tools' };

export function kindOfSegment(segment: string): MetadataKind | undefined {
  return (Object.keys(METADATA_KINDS) as MetadataKind[]).find((kind) => METADATA_KINDS[kind].segment === segment);
}

/** The file a piece of metadata belongs in; a workflow's folder is its body's module. */
export function fileOf(kind: MetadataKind, name: string, body?: unknown): string {
  const folder = FOLDER_KINDS[kind];
  if (folder) {
    const module = (body as { module?: unknown } | null)?.module;
    return `modules/${typeof module === 'string' ? module : '_'}/${folder}/${name}.json`;
  }
  return `modules/${name}/${METADATA_KINDS[kind].fileName}`;
}

export interface MetadataSource {
  kind: MetadataKind;
  name: string;
  file: string;
  body: unknown;
}

export interface ValidatedSet {
  modules: ModuleDefinition[];
  layouts: Map<string, LayoutDefinition>;
  rules: Map<string, RuleDefinition[]>;
  workflows: WorkflowDefinition[];
  tools: ToolDefinition[];
  problems: MetadataProblem[];
}

/** Every `modules/<module>/<folder>/*.json`, by module then file name. */
async function readFolderFiles(rootDir: string, folder: string): Promise<MetadataFile[]> {
  const modulesDir = join(rootDir, 'modules');
  if (!existsSync(modulesDir)) return [];
  const files: MetadataFile[] = [];
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  for (const module of (await readdir(modulesDir)).sort(byName)) {
    const dir = join(modulesDir, module, folder);
    if (!existsSync(dir)) continue;
    for (const entry of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort(byName)) {
      files.push({ file: `modules/${module}/${folder}/${entry}`, text: await readFile(join(dir, entry), 'utf8') });
    }
  }
  return files;
}

/** Reads and parses every metadata file of every kind; syntax errors and duplicate keys become problems. */
export async function readMetadataFiles(rootDir: string): Promise<{ sources: MetadataSource[]; problems: MetadataProblem[] }> {
  const sources: MetadataSource[] = [];
  const problems: MetadataProblem[] = [];
  for (const kind of ['module', 'layout', 'rules'] as const) {
    for (const file of await readBundleFiles(rootDir, METADATA_KINDS[kind].fileName)) {
      const parsed = parseFile(file, problems);
      if (parsed !== undefined) sources.push({ kind, name: file.file.split('/')[1], file: file.file, body: parsed });
    }
  }
  for (const [kind, folder] of Object.entries(FOLDER_KINDS) as Array<[MetadataKind, string]>) {
    for (const file of await readFolderFiles(rootDir, folder)) {
      const parsed = parseFile(file, problems);
      const name = file.file.slice(file.file.lastIndexOf('/') + 1, -'.json'.length);
      if (parsed !== undefined) sources.push({ kind, name, file: file.file, body: parsed });
    }
  }
  return { sources, problems };
}

function parseFile({ file, text }: MetadataFile, problems: MetadataProblem[]): unknown {
  const result = readJsonSource(text);
  for (const { pointer, key, line, column } of result.duplicateKeys) {
    problems.push({
      file,
      pointer,
      message: `duplicate key ${JSON.stringify(key)} at line ${line}, column ${column}; JSON keeps only the last one`,
    });
  }
  if (result.syntaxError) {
    const { line, column, message } = result.syntaxError;
    problems.push({ file, pointer: '', message: `invalid JSON at line ${line}, column ${column}: ${message}` });
    return undefined;
  }
  return result.value;
}

/**
 * Validates a whole metadata set — modules, their formulas, layouts and rules —
 * together, because they refer to each other: a module change can break a layout
 * or a rule, and a publish must not let it.
 */
export function validateMetadataSet(sources: MetadataSource[]): ValidatedSet {
  const ofKind = (kind: MetadataKind) => sources.filter((s) => s.kind === kind).map(({ file, body }) => ({ file, body }));
  const moduleResult = validateModuleSet(ofKind('module'));
  const problems = [...moduleResult.problems];
  const modules = moduleResult.modules;
  const byName = new Map(modules.map((m) => [m.name, m]));
  for (const module of modules) {
    const file = fileOf('module', module.name);
    for (const problem of compileFormulas(module, byName).problems) problems.push({ file, ...problem });
  }
  const layoutResult = validateLayouts(ofKind('layout'), modules);
  problems.push(...layoutResult.problems);
  const rulesResult = validateRules(ofKind('rules'), byName);
  problems.push(...rulesResult.problems);
  const toolResult = validateTools(ofKind('tool'), byName);
  problems.push(...toolResult.problems);
  const toolNames = new Map<string, Set<string>>();
  for (const tool of toolResult.tools) toolNames.set(tool.module, (toolNames.get(tool.module) ?? new Set()).add(tool.name));
  const workflowResult = validateWorkflows(ofKind('workflow'), byName, toolNames);
  problems.push(...workflowResult.problems);
  return {
    modules,
    layouts: new Map(layoutResult.layouts.map((l) => [l.module, l])),
    rules: rulesResult.rules,
    workflows: workflowResult.workflows,
    tools: toolResult.tools,
    problems,
  };
}
