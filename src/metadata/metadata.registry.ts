import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import { compileModule, createRecordAjv, type CompiledModule, type ModuleBundle, type RelationPath } from './compiled-module';
import type { ModuleDefinition } from './metadata.types';
import type { FormulaDependency } from '../formulas/formula.compiler';
import { compileWorkflow, type CompiledWorkflow } from '../workflows/workflow.compiler';
import type { WorkflowDefinition } from '../workflows/workflow.types';
import { compileTool, type CompiledTool } from '../tools/tool.compiler';
import type { ToolDefinition } from '../tools/tool.types';
import type { DocumentTemplateDefinition } from '../documents/document-template.validator';
import type { EmailTemplateDefinition } from '../templates/email-template';

/** The active email and document templates, validated; the template stores compile them once per snapshot. */
export interface TemplateDefinitions {
  email: EmailTemplateDefinition[];
  documents: DocumentTemplateDefinition[];
}

const NO_TEMPLATES: TemplateDefinitions = { email: [], documents: [] };

/** A relation pointing into a module from another one (for reference checks on delete). */
export interface IncomingRelation extends RelationPath {
  module: string;
}

/** A module whose formulas read records of another module (see {@link MetadataSnapshot.dependents}). */
export interface FormulaDependent {
  /** The module holding the formula. */
  module: string;
  dependency: FormulaDependency;
}

/** An immutable view of all active metadata; a publish builds a new one and swaps it in whole. */
export class MetadataSnapshot {
  readonly modules: ReadonlyMap<string, CompiledModule>;
  readonly incoming: ReadonlyMap<string, readonly IncomingRelation[]>;
  /** Per module, the formulas elsewhere that read its records: a change there must refresh them. */
  readonly dependents: ReadonlyMap<string, readonly FormulaDependent[]>;

  /** Enabled workflows by name, and by the module whose records trigger them. */
  readonly workflows: ReadonlyMap<string, CompiledWorkflow>;
  readonly workflowsByModule: ReadonlyMap<string, readonly CompiledWorkflow[]>;
  /** Module tools by module, then by name. */
  readonly tools: ReadonlyMap<string, ReadonlyMap<string, CompiledTool>>;
  /** Email and document templates by name (compiled by TemplateStore and DocumentTemplateStore). */
  readonly emailTemplates: ReadonlyMap<string, EmailTemplateDefinition>;
  readonly documentTemplates: ReadonlyMap<string, DocumentTemplateDefinition>;

  constructor(
    /** Changes with every publish anywhere (the newest active metadata row id). */
    readonly version: number,
    modules: CompiledModule[],
    workflows: CompiledWorkflow[] = [],
    tools: CompiledTool[] = [],
    templates: TemplateDefinitions = NO_TEMPLATES,
  ) {
    this.emailTemplates = new Map(templates.email.map((t) => [t.name, t]));
    this.documentTemplates = new Map(templates.documents.map((t) => [t.name, t]));
    const toolsByModule = new Map<string, Map<string, CompiledTool>>();
    for (const tool of tools) {
      const byName = toolsByModule.get(tool.definition.module) ?? new Map<string, CompiledTool>();
      byName.set(tool.definition.name, tool);
      toolsByModule.set(tool.definition.module, byName);
    }
    this.tools = toolsByModule;
    this.workflows = new Map(workflows.map((w) => [w.definition.name, w]));
    const byModule = new Map<string, CompiledWorkflow[]>();
    for (const workflow of workflows) {
      if (workflow.definition.enabled === false) continue;
      byModule.set(workflow.definition.module, [...(byModule.get(workflow.definition.module) ?? []), workflow]);
    }
    this.workflowsByModule = byModule;
    this.modules = new Map(modules.map((m) => [m.name, m]));
    const incoming = new Map<string, IncomingRelation[]>();
    for (const module of modules) {
      for (const relation of module.relations) {
        const list = incoming.get(relation.target) ?? [];
        list.push({ ...relation, module: module.name });
        incoming.set(relation.target, list);
      }
    }
    this.incoming = incoming;
    const dependents = new Map<string, FormulaDependent[]>();
    for (const module of modules) {
      for (const dependency of module.formulas.dependencies) {
        dependents.set(dependency.module, [...(dependents.get(dependency.module) ?? []), { module: module.name, dependency }]);
      }
    }
    this.dependents = dependents;
  }

  static empty(): MetadataSnapshot {
    return new MetadataSnapshot(0, []);
  }

  module(name: string): CompiledModule {
    const module = this.modules.get(name);
    if (!module) {
      throw new AppException(
        'not_found',
        'unknown_module',
        `There is no module "${name}". Known modules: ${[...this.modules.keys()].sort().join(', ')}.`,
      );
    }
    return module;
  }
}

export type SnapshotListener = (snapshot: MetadataSnapshot, changed: readonly string[]) => Promise<void>;

/**
 * The read-only registry the runtime reads metadata from. Compiled modules are
 * reused across snapshots while their version is unchanged, so a publish only
 * compiles what changed.
 */
@Injectable()
export class MetadataRegistry {
  private readonly logger = new Logger('MetadataRegistry');
  private current = MetadataSnapshot.empty();
  private readonly listeners: SnapshotListener[] = [];

  snapshot(): MetadataSnapshot {
    return this.current;
  }

  /** Called (and awaited) after every swap, e.g. to create indexes for changed modules. */
  onSwap(listener: SnapshotListener): void {
    this.listeners.push(listener);
  }

  /** Compiles the given active modules and swaps the snapshot in one assignment. */
  async replace(
    version: number,
    bundles: ModuleBundle[],
    workflows: WorkflowDefinition[] = [],
    tools: ToolDefinition[] = [],
    templates: TemplateDefinitions = NO_TEMPLATES,
  ): Promise<MetadataSnapshot> {
    if (version < this.current.version) return this.current;
    const ajv = createRecordAjv();
    const changed: string[] = [];
    const definitions = new Map<string, ModuleDefinition>(bundles.map((b) => [b.definition.name, b.definition]));
    const compiled = bundles.map((bundle) => {
      const existing = this.current.modules.get(bundle.definition.name);
      if (existing && existing.version === bundle.version) return existing;
      changed.push(bundle.definition.name);
      return compileModule(bundle, definitions, ajv);
    });
    const next = new MetadataSnapshot(
      version,
      compiled,
      workflows.map((w) => compileWorkflow(w, definitions.get(w.module)!)),
      tools.map((tool) => compileTool(tool, definitions.get(tool.module)!)),
      templates,
    );
    this.current = next;
    if (changed.length > 0) this.logger.log(`Metadata ${version}: compiled ${changed.join(', ')}`);
    for (const listener of this.listeners) await listener(next, changed);
    return next;
  }
}
