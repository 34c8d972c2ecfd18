import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AsyncMutex } from '../database/async-mutex';
import { DATABASE, type Database } from '../database/database';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { metadataChecksum } from './checksum';
import { readModuleFiles } from './metadata-files';
import { MetadataNotFoundException, MetadataValidationException } from './metadata.exception';
import { MetadataRegistry } from './metadata.registry';
import type { MetadataProblem, ModuleDefinition } from './metadata.types';
import { formatProblems, validateModules, validateModuleSet } from './module.validator';
import { MetadataVersionRepository, type MetadataVersionRow } from './metadata-version.repository';

export interface ModuleVersionView {
  name: string;
  version: number;
  checksum: string;
  author: string;
  source: string;
  createdAt: string;
  active: boolean;
}

/** Thrown at boot when the shipped metadata files are invalid: the engine refuses to start. */
export class MetadataBootException extends Error {
  constructor(readonly problems: MetadataProblem[]) {
    super(`Metadata is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${formatProblems(problems)}`);
  }
}

/**
 * The versioned metadata store: imports files at boot (idempotent by checksum),
 * publishes and rolls back through the admin API, and keeps the registry in step.
 */
@Injectable()
export class MetadataService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Metadata');
  /** Identifies this process in publish announcements, so it skips its own. */
  private readonly instanceId = randomUUID();
  private readonly reloading = new AsyncMutex();
  private unlisten?: () => Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly db: Database,
    private readonly versions: MetadataVersionRepository,
    private readonly registry: MetadataRegistry,
  ) {}

  private get channel(): string {
    return `metacrm_metadata_${this.config.databaseSchema}`;
  }

  async onModuleInit(): Promise<void> {
    const imported = await this.importFiles();
    await this.reload();
    if (imported > 0) await this.announce();
    // Other processes publish too: each publish is announced, and every process reloads.
    this.unlisten = await this.db.listen(this.channel, (payload) => {
      if (payload === this.instanceId) return;
      this.reload().catch((error: Error) => this.logger.error(`Reloading announced metadata failed: ${error.message}`));
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.unlisten?.();
  }

  /** Validates `modules/*\/module.json` and stores each changed file as a new active version. */
  async importFiles(): Promise<number> {
    let imported = 0;
    const files = await readModuleFiles(this.config.rootDir);
    const { modules, problems } = validateModules(files);
    if (problems.length > 0) throw new MetadataBootException(problems);
    for (const module of modules) {
      const checksum = metadataChecksum(module);
      if (await this.versions.hasChecksum('module', module.name, checksum)) continue;
      const row = await this.versions.publish('module', module.name, module, checksum, 'system:files', 'file');
      this.logger.log(`Imported module ${module.name} as version ${row.version}`);
      imported++;
    }
    return imported;
  }

  /** Rebuilds the registry from the active versions in the database (one reload at a time, so none lands out of order). */
  reload(): Promise<void> {
    return this.reloading.run(async () => {
      const setVersion = await this.versions.currentSetVersion();
      const rows = await this.versions.listActive('module');
      await this.registry.replace(
        setVersion,
        rows.map((row) => ({ definition: row.body as ModuleDefinition, version: row.id })),
      );
    });
  }

  private async announce(): Promise<void> {
    await this.db.notify(this.channel, this.instanceId);
  }

  listModules(): Array<{ name: string; version: number; label: ModuleDefinition['label']; fields: number }> {
    return [...this.registry.snapshot().modules.values()]
      .map((m) => ({ name: m.name, version: m.version, label: m.definition.label, fields: m.fields.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async getModule(name: string): Promise<{ name: string; version: number; body: ModuleDefinition }> {
    const row = (await this.versions.listActive('module')).find((r) => r.name === name);
    if (!row) throw new MetadataNotFoundException('module', name);
    return { name, version: row.version, body: row.body as ModuleDefinition };
  }

  /** Dry run: every problem `body` would have as the module `name`, given the other active modules. */
  validate(name: string, body: unknown): MetadataProblem[] {
    return this.validateAgainstActive(name, body).problems;
  }

  async publish(ctx: RequestContext, name: string, body: unknown): Promise<{ created: boolean; view: ModuleVersionView }> {
    const { problems } = this.validateAgainstActive(name, body);
    if (problems.length > 0) throw new MetadataValidationException(problems, `Module "${name}"`);
    const created = !this.registry.snapshot().modules.has(name);
    const row = await this.versions.publish('module', name, body, metadataChecksum(body), ctx.actorName, 'api');
    await this.reload();
    await this.announce();
    this.logger.log(`Published module ${name} version ${row.version} by ${ctx.actorName}`);
    return { created, view: toView(row) };
  }

  async listVersions(name: string): Promise<ModuleVersionView[]> {
    const rows = await this.versions.listVersions('module', name);
    if (rows.length === 0) throw new MetadataNotFoundException('module', name);
    return rows.map(toView);
  }

  /** Publishes the body of an earlier version as a new version, so the history stays linear. */
  async rollback(ctx: RequestContext, name: string, version: number): Promise<ModuleVersionView> {
    const target = await this.versions.find('module', name, version);
    if (!target) throw new MetadataNotFoundException('module', name, version);
    if (target.active) {
      throw new AppException('conflict', 'already_active', `Version ${version} of module "${name}" is already the active one.`);
    }
    const { problems } = this.validateAgainstActive(name, target.body);
    if (problems.length > 0) throw new MetadataValidationException(problems, `Version ${version} of module "${name}"`);
    const row = await this.versions.publish('module', name, target.body, target.checksum, ctx.actorName, 'rollback');
    await this.reload();
    await this.announce();
    this.logger.log(`Rolled module ${name} back to the body of version ${version} (now version ${row.version})`);
    return toView(row);
  }

  private validateAgainstActive(name: string, body: unknown): { problems: MetadataProblem[] } {
    const others = [...this.registry.snapshot().modules.values()]
      .filter((m) => m.name !== name)
      .map((m) => ({ file: `modules/${m.name}/module.json`, body: m.definition as unknown }));
    const file = `modules/${name}/module.json`;
    const { problems } = validateModuleSet([...others, { file, body }]);
    // Only this module's problems are the caller's to fix; the active set was valid when published.
    return { problems: problems.filter((p) => p.file === file) };
  }
}

function toView(row: MetadataVersionRow): ModuleVersionView {
  return {
    name: row.name,
    version: row.version,
    checksum: row.checksum,
    author: row.author,
    source: row.source,
    createdAt: new Date(row.createdAt).toISOString(),
    active: row.active,
  };
}
