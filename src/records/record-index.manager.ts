import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DATABASE, type Database } from '../database/database';
import type { CompiledModule } from '../metadata/compiled-module';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { fieldExpression, indexName, sqlLiteral } from './sql';

/**
 * Creates an expression index for every field marked `indexed` when its module is
 * published: partial per module, keyed (value, created_at, id) so a filtered list
 * in the default order reads the index in order and stops after one page.
 */
@Injectable()
export class RecordIndexManager implements OnModuleInit {
  private readonly logger = new Logger('RecordIndexes');

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly registry: MetadataRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.registry.onSwap((snapshot, changed) => this.ensure(snapshot, changed));
    // The metadata service loaded the first snapshot before this listener existed.
    const current = this.registry.snapshot();
    await this.ensure(current, [...current.modules.keys()]);
  }

  async ensure(snapshot: MetadataSnapshot, modules: readonly string[]): Promise<void> {
    for (const name of modules) {
      const module = snapshot.modules.get(name);
      if (module) await this.ensureModule(module);
    }
  }

  statements(module: CompiledModule, concurrent = this.db.kind === 'postgres'): string[] {
    const concurrently = concurrent ? 'CONCURRENTLY ' : '';
    return [...module.fields]
      .filter(([, field]) => field.indexed && field.type !== 'lines' && field.type !== 'multipicklist')
      .map(
        ([name, field]) =>
          `CREATE INDEX ${concurrently}IF NOT EXISTS ${indexName(module.name, name)} ON records (${fieldExpression(name, field)}, created_at, id) WHERE module = ${sqlLiteral(module.name)}`,
      );
  }

  private async ensureModule(module: CompiledModule): Promise<void> {
    // CONCURRENTLY keeps writes flowing while a big table is indexed, but waits for every open transaction
    // in the database; an empty table is indexed at once without it.
    const rows = this.db.kind === 'postgres' ? await this.db.query(`SELECT 1 FROM records LIMIT 1`) : [];
    for (const statement of this.statements(module, rows.length > 0)) {
      const started = Date.now();
      await this.db.query(statement);
      const took = Date.now() - started;
      if (took > 1000) this.logger.log(`${statement.split(' ON ')[0]} took ${took} ms`);
    }
  }
}
