import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { AsyncMutex } from '../database/async-mutex';
import { DATABASE, type Database } from '../database/database';
import { metadataChecksum } from './checksum';
import { MetadataNotFoundException, MetadataValidationException } from './metadata.exception';
import { MetadataRegistry } from './metadata.registry';
import { fileOf, readMetadataFiles, validateMetadataSet, type MetadataKind, type MetadataSource } from './metadata-set';
import type { MetadataProblem } from './metadata.types';
import { formatProblems } from './module.validator';
import { MetadataVersionRepository, type MetadataVersionRow } from './metadata-version.repository';

export interface MetadataVersionView {
  kind: MetadataKind;
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
 * publishes and rolls back every kind (modules, layouts, rules, workflows, tools,
 * email and document templates) through the admin API, and
 * keeps every process's registry in step. A change is validated together with
 * all other active metadata, so it can never leave a layout, rule or formula
 * pointing at something that is gone.
 */
@Injectable()
export class MetadataService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Metadata');
  /** Identifies this process in publish announcements, so it skips its own. */
  private readonly instanceId = randomUUID();
  private readonly reloading = new AsyncMutex();
  private unlisten?: () => Promise<void>;
  /** The active metadata as stored (bodies and row ids), as of the last reload. */
  private active: MetadataVersionRow[] = [];

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

  /** Validates every file under `modules/` and `templates/` together and stores each changed one as a new active version. */
  async importFiles(): Promise<number> {
    const { sources, problems: parseProblems } = await readMetadataFiles(this.config.rootDir);
    const { problems } = await validateMetadataSet(sources);
    const all = [...parseProblems, ...problems];
    if (all.length > 0) throw new MetadataBootException(all);
    let imported = 0;
    for (const source of sources) {
      const checksum = metadataChecksum(source.body);
      if (await this.versions.hasChecksum(source.kind, source.name, checksum)) continue;
      const row = await this.versions.publish(source.kind, source.name, source.body, checksum, 'system:files', 'file');
      this.logger.log(`Imported ${source.file} as version ${row.version}`);
      imported++;
    }
    return imported;
  }

  /** Rebuilds the registry from the active versions (one reload at a time, so none lands out of order). */
  reload(): Promise<void> {
    return this.reloading.run(async () => {
      const setVersion = await this.versions.currentSetVersion();
      const rows = await this.versions.listAllActive();
      const { modules, layouts, rules, workflows, tools, emailTemplates, documentTemplates, problems } = await validateMetadataSet(
        rows.map(toSource),
      );
      // Stored metadata was valid when published; if it is not now, say so but keep serving what compiles.
      if (problems.length > 0) this.logger.error(`Active metadata has problems:\n${formatProblems(problems)}`);
      const bundleVersion = (name: string) => rows.filter((r) => r.name === name).reduce((max, r) => Math.max(max, r.id), 0);
      this.active = rows;
      await this.registry.replace(
        setVersion,
        modules.map((definition) => ({
          definition,
          layout: layouts.get(definition.name),
          rules: rules.get(definition.name),
          version: bundleVersion(definition.name),
        })),
        workflows,
        tools,
        { email: emailTemplates, documents: documentTemplates },
      );
    });
  }

  list(kind: MetadataKind): Array<{ name: string; version: number; createdAt: string }> {
    return this.active
      .filter((row) => row.kind === kind)
      .map((row) => ({ name: row.name, version: row.version, createdAt: new Date(row.createdAt).toISOString() }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(kind: MetadataKind, name: string): { name: string; version: number; body: unknown } {
    const row = this.active.find((r) => r.kind === kind && r.name === name);
    if (!row) throw new MetadataNotFoundException(kind, name);
    return { name, version: row.version, body: row.body };
  }

  /** Dry run: every problem the metadata set would have with `body` as this kind's `name`. */
  async validate(kind: MetadataKind, name: string, body: unknown): Promise<MetadataProblem[]> {
    return (await validateMetadataSet(this.candidate(kind, name, body))).problems;
  }

  async publish(
    ctx: RequestContext,
    kind: MetadataKind,
    name: string,
    body: unknown,
  ): Promise<{ created: boolean; view: MetadataVersionView }> {
    const problems = await this.validate(kind, name, body);
    if (problems.length > 0) throw new MetadataValidationException(problems, `The ${kind} "${name}"`);
    const created = !this.active.some((r) => r.kind === kind && r.name === name);
    const row = await this.versions.publish(kind, name, body, metadataChecksum(body), ctx.actorName, 'api');
    await this.reload();
    await this.announce();
    this.logger.log(`Published ${kind} ${name} version ${row.version} by ${ctx.actorName}`);
    return { created, view: toView(row) };
  }

  async listVersions(kind: MetadataKind, name: string): Promise<MetadataVersionView[]> {
    const rows = await this.versions.listVersions(kind, name);
    if (rows.length === 0) throw new MetadataNotFoundException(kind, name);
    return rows.map(toView);
  }

  /** Publishes the body of an earlier version as a new version, so the history stays linear. */
  async rollback(ctx: RequestContext, kind: MetadataKind, name: string, version: number): Promise<MetadataVersionView> {
    const target = await this.versions.find(kind, name, version);
    if (!target) throw new MetadataNotFoundException(kind, name, version);
    if (target.active) {
      throw new AppException('conflict', 'already_active', `Version ${version} of the ${kind} "${name}" is already the active one.`);
    }
    const problems = await this.validate(kind, name, target.body);
    if (problems.length > 0) throw new MetadataValidationException(problems, `Version ${version} of the ${kind} "${name}"`);
    const row = await this.versions.publish(kind, name, target.body, target.checksum, ctx.actorName, 'rollback');
    await this.reload();
    await this.announce();
    this.logger.log(`Rolled ${kind} ${name} back to the body of version ${version} (now version ${row.version})`);
    return toView(row);
  }

  private candidate(kind: MetadataKind, name: string, body: unknown): MetadataSource[] {
    const others = this.active.filter((r) => !(r.kind === kind && r.name === name)).map(toSource);
    return [...others, { kind, name, file: fileOf(kind, name, body), body }];
  }

  private async announce(): Promise<void> {
    await this.db.notify(this.channel, this.instanceId);
  }
}

function toSource(row: MetadataVersionRow): MetadataSource {
  return { kind: row.kind, name: row.name, file: fileOf(row.kind, row.name, row.body), body: row.body };
}

function toView(row: MetadataVersionRow): MetadataVersionView {
  return {
    kind: row.kind,
    name: row.name,
    version: row.version,
    checksum: row.checksum,
    author: row.author,
    source: row.source,
    createdAt: new Date(row.createdAt).toISOString(),
    active: row.active,
  };
}
