/** The outbox event a save writes when formulas elsewhere read the saved module. */
export interface RecordChangedEvent {
  module: string;
  id: string;
  /** Relation values before and after the change (null when empty or the record is new / deleted). */
  relations: Record<string, [string | null, string | null]>;
  /** How many formula refreshes led to this change; the refresh stops at {@link MAX_REFRESH_DEPTH}. */
  depth: number;
  /** The workflow runs behind the change, carried on so a formula refresh cannot launder a workflow loop. */
  causation?: Array<{ workflow: string; module: string; recordId: string }>;
}

export const RECORD_CHANGED = 'record.changed';
export const MAX_REFRESH_DEPTH = 16;
