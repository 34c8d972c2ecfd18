import { recordTitle } from '../cards/display-value';
import type { SqlExecutor } from '../database/database';
import type { MetadataSnapshot } from '../metadata/metadata.registry';
import { SqlRecordReader } from '../records/record.reader';

type Data = Record<string, unknown>;

/**
 * What an email template sees about a record, the same whoever sends it (a workflow's `sendEmail`, a tool's): the
 * record as `record` and under its module's singular name (`opportunity`, `invoice` — from the English label), and
 * the records its relations point to by field name (`account`, `contact`; also under `related`), each with a display
 * `name`. Related records are read through `executor` (pass the open transaction: PGlite has one connection).
 */
export async function recordTemplateData(
  snapshot: MetadataSnapshot,
  moduleName: string,
  record: Data,
  executor: SqlExecutor,
): Promise<Data> {
  const reader = new SqlRecordReader(executor, snapshot);
  const module = snapshot.module(moduleName);
  const related: Data = {};
  for (const relation of module.relations) {
    const id = record[relation.field];
    if (relation.lines || typeof id !== 'string') continue;
    const target = await reader.get(relation.target, id);
    if (target) related[relation.field] = { name: recordTitle(target), ...target };
  }
  const singular = (module.definition.label.en ?? module.name).toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return { ...related, [singular]: record, record, related };
}
