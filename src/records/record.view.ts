import type { FieldChangeRow, RecordRow } from './record.repository';

/** A record as the API shows it: system properties first, then the module's fields. */
export interface ApiRecord {
  id: string;
  number: string | null;
  module: string;
  version: number;
  owner: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  [field: string]: unknown;
}

export interface HistoryEntry {
  id: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  actor: { id: string; name: string };
  source: string;
  changedAt: string;
}

export function toApiRecord(row: RecordRow): ApiRecord {
  // System properties first; field names can never shadow them (the metadata validator reserves them).
  return {
    id: row.id,
    number: row.number,
    module: row.module,
    version: row.version,
    owner: row.owner_id,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    archivedAt: row.archived_at ? new Date(row.archived_at).toISOString() : null,
    ...row.data,
  };
}

export function toHistoryEntry(row: FieldChangeRow): HistoryEntry {
  return {
    id: row.id,
    field: row.field,
    oldValue: row.old_value,
    newValue: row.new_value,
    actor: { id: row.actor_id, name: row.actor_name },
    source: row.source,
    changedAt: new Date(row.changed_at).toISOString(),
  };
}

export function etagOf(record: { version: number }): string {
  return `"${record.version}"`;
}
