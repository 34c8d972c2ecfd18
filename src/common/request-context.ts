/** Who is acting in a request: services take this first, so they never read HTTP objects. */
export interface RequestContext {
  /** The API key's id (or a system actor such as `system:boot`). */
  actorId: string;
  /** Human-readable actor name for logs and history. */
  actorName: string;
  permissions: ReadonlySet<string>;
  /** Where the change comes from: api, card, workflow, tool, import, formula (a refresh), system. */
  source: 'api' | 'card' | 'workflow' | 'tool' | 'import' | 'formula' | 'system';
  /** For writes made by workflows: the runs that led here, oldest first (loop protection). */
  causation?: Array<{ workflow: string; module: string; recordId: string }>;
}

export const SYSTEM_CONTEXT: RequestContext = {
  actorId: 'system',
  actorName: 'system',
  permissions: new Set(['admin']),
  source: 'system',
};

/** The engine itself refreshing computed values. */
export const FORMULA_CONTEXT: RequestContext = {
  ...SYSTEM_CONTEXT,
  actorId: 'system:formulas',
  actorName: 'formula refresh',
  source: 'formula',
};
