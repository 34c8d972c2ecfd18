import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TAG_RENDERERS } from '../documents/document.renderers';
import { validateDocumentTemplates, type DocumentTemplateDefinition } from '../documents/document-template.validator';
import { compileFormulas } from '../formulas/formula.compiler';
import { validateEmailTemplates, type EmailTemplateDefinition } from '../templates/email-template';
import { HandlebarsEnvironment } from '../templates/handlebars.environment';
import { readDocumentTemplateFiles, readEmailTemplateFiles } from '../templates/template-files';
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

/**
 * The kinds of metadata, each in its own file and versioned on its own: what a module bundle holds, and the email
 * and document templates of `templates/`.
 */
export type MetadataKind = 'module' | 'layout' | 'rules' | 'workflow' | 'tool' | 'email-template' | 'document-template';

/** Where each kind lives (in a module bundle, or under `templates/`) and its admin API segment. */
export const METADATA_KINDS: Record<MetadataKind, { fileName: string; segment: string }> = {
  module: { fileName: 'module.json', segment: 'modules' },
  layout: { fileName: 'layout.json', segment: 'layouts' },
  rules: { fileName: 'rules.json', segment: 'rules' },
  workflow: { fileName: 'workflows/*.json', segment: 'workflows' },
  tool: { fileName: 'tools/*.json', segment: 'tools' },
  'email-template': { fileName: 'templates/email/*.hbs', segment: 'email-templates' },
  'document-template': { fileName: 'templates/documents/*.hbs', segment: 'document-templates' },
};

/** Template kinds: files under `templates/`, named by the file name. */
const TEMPLATE_FOLDERS: Partial<Record<MetadataKind, string>> = { 'email-template': 'email', 'document-template': 'documents' };

/** Kinds stored one file per item in a folder of the module bundle, named by the item. */
const FOLDER_KINDS: Partial<Record<MetadataKind, string>> = { workflow: 'workflows', tool: 'tools' };

export function kindOfSegment(segment: string): MetadataKind | undefined {
  return (Object.keys(METADATA_KINDS) as MetadataKind[]).find((kind) => METADATA_KINDS[kind].segment === segment);
}

/** The file a piece of metadata belongs in; a workflow's folder is its body's module. */
export function fileOf(kind: MetadataKind, name: string, body?: unknown): string {
  const templates = TEMPLATE_FOLDERS[kind];
  if (templates) return `templates/${templates}/${name}.hbs`;
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
  emailTemplates: EmailTemplateDefinition[];
  documentTemplates: DocumentTemplateDefinition[];
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
  // Templates are text (and zips), not JSON: each file becomes the body the admin API would publish.
  for (const [kind, read] of [
    ['email-template', readEmailTemplateFiles],
    ['document-template', readDocumentTemplateFiles],
  ] as const) {
    const templates = await read(rootDir);
    problems.push(...templates.problems);
    for (const { name, file, body } of templates.sources) sources.push({ kind, name, file, body });
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
 * Compiles templates to find their syntax errors. Which helpers exist does not depend on the translations, so one
 * environment without them checks for every process; the stores compile with the real one.
 */
let templateChecker: HandlebarsEnvironment | undefined;

/**
 * Validates a whole metadata set — modules, their formulas, layouts, rules, tools,
 * workflows and templates — together, because they refer to each other: a module
 * change can break a layout or a rule, a workflow names an email template, and a
 * publish must not let any of that break.
 */
export async function validateMetadataSet(sources: MetadataSource[]): Promise<ValidatedSet> {
  const ofKind = (kind: MetadataKind) => sources.filter((s) => s.kind === kind).map(({ file, body }) => ({ file, body }));
  const namedOfKind = (kind: MetadataKind) => sources.filter((s) => s.kind === kind);
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
  templateChecker ??= new HandlebarsEnvironment();
  const emailResult = validateEmailTemplates(namedOfKind('email-template'), templateChecker);
  problems.push(...emailResult.problems);
  const documentResult = await validateDocumentTemplates(namedOfKind('document-template'), byName, templateChecker, TAG_RENDERERS);
  problems.push(...documentResult.problems);
  const emailTemplateNames = new Set(emailResult.templates.map((t) => t.name));
  // Tools may run workflows and workflows may run tools: tools are checked against the workflows' names and modules.
  const workflowModules = new Map<string, string>();
  for (const { body } of ofKind('workflow')) {
    const { name, module } = (body ?? {}) as { name?: unknown; module?: unknown };
    if (typeof name === 'string' && typeof module === 'string') workflowModules.set(name, module);
  }
  const toolResult = validateTools(ofKind('tool'), byName, workflowModules);
  problems.push(...toolResult.problems);
  const toolNames = new Map<string, Set<string>>();
  for (const tool of toolResult.tools) toolNames.set(tool.module, (toolNames.get(tool.module) ?? new Set()).add(tool.name));
  const workflowResult = validateWorkflows(ofKind('workflow'), byName, toolNames);
  problems.push(...workflowResult.problems);
  problems.push(...emailTemplateReferences(workflowResult.workflows, emailTemplateNames));
  problems.push(...toolTemplateReferences(toolResult.tools, emailTemplateNames, documentResult.templates));
  return {
    modules,
    layouts: new Map(layoutResult.layouts.map((l) => [l.module, l])),
    rules: rulesResult.rules,
    workflows: workflowResult.workflows,
    tools: toolResult.tools,
    emailTemplates: emailResult.templates,
    documentTemplates: documentResult.templates,
    problems,
  };
}

/** Every `sendEmail` action must name an email template of the set (a template that fails validation counts as missing). */
function emailTemplateReferences(workflows: WorkflowDefinition[], templates: ReadonlySet<string>): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const known = [...templates].sort().join(', ') || 'none';
  for (const workflow of workflows) {
    workflow.actions.forEach((action, i) => {
      if (action.type !== 'sendEmail' || templates.has(action.template)) return;
      problems.push({
        file: fileOf('workflow', workflow.name, workflow),
        pointer: `/actions/${i}/template`,
        message: `there is no email template "${action.template}" (known: ${known})`,
      });
    });
  }
  return problems;
}

/**
 * A tool's email template must be in the set, and every document it renders (`generateDocument`, an attachment) a
 * document template of the tool's module that renders to the format asked (DOCX and XLSX need their tag template).
 */
function toolTemplateReferences(
  tools: ToolDefinition[],
  emailTemplates: ReadonlySet<string>,
  documentTemplates: DocumentTemplateDefinition[],
): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const emailKnown = [...emailTemplates].sort().join(', ') || 'none';
  for (const tool of tools) {
    const file = fileOf('tool', tool.name, tool);
    const documents = documentTemplates.filter((t) => t.module === tool.module);
    const checkDocument = (pointer: string, name: string, format: string) => {
      const template = documents.find((t) => t.name === name);
      if (!template) {
        const known = documents.map((t) => t.name).join(', ') || 'none';
        problems.push({ file, pointer, message: `there is no document template "${name}" for ${tool.module} (known: ${known})` });
      } else if ((format === 'docx' || format === 'xlsx') && !template.binaries[format]) {
        problems.push({ file, pointer, message: `the document template "${name}" has no ${format.toUpperCase()} tag template` });
      }
    };
    const action = tool.action;
    if (action.type === 'generateDocument') checkDocument('/action/template', action.template, action.format);
    if (action.type === 'sendEmail') {
      if (!emailTemplates.has(action.template)) {
        problems.push({
          file,
          pointer: '/action/template',
          message: `there is no email template "${action.template}" (known: ${emailKnown})`,
        });
      }
      action.attachments?.forEach((a, i) => checkDocument(`/action/attachments/${i}/document`, a.document, a.format));
    }
  }
  return problems;
}
