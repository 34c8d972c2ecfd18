import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import { compileModule, createRecordAjv, type CompiledModule, type RelationPath } from './compiled-module';
import type { ModuleDefinition } from './metadata.types';

/** A relation pointing into a module from another one (for reference checks on delete). */
export interface IncomingRelation extends RelationPath {
  module: string;
}

/** An immutable view of all active metadata; a publish builds a new one and swaps it in whole. */
export class MetadataSnapshot {
  readonly modules: ReadonlyMap<string, CompiledModule>;
  readonly incoming: ReadonlyMap<string, readonly IncomingRelation[]>;

  constructor(
    /** Changes with every publish anywhere (the newest active metadata row id). */
    readonly version: number,
    modules: CompiledModule[],
  ) {
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
  async replace(version: number, modules: Array<{ definition: ModuleDefinition; version: number }>): Promise<MetadataSnapshot> {
    const ajv = createRecordAjv();
    const changed: string[] = [];
    const compiled = modules.map(({ definition, version: moduleVersion }) => {
      const existing = this.current.modules.get(definition.name);
      if (existing && existing.version === moduleVersion) return existing;
      changed.push(definition.name);
      return compileModule(definition, moduleVersion, ajv);
    });
    const next = new MetadataSnapshot(version, compiled);
    this.current = next;
    if (changed.length > 0) this.logger.log(`Metadata ${version}: compiled ${changed.join(', ')}`);
    for (const listener of this.listeners) await listener(next, changed);
    return next;
  }
}
