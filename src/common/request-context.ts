/** Who is acting in a request: services take this first, so they never read HTTP objects. */
export interface RequestContext {
  /** The API key's id (or a system actor such as `system:boot`). */
  actorId: string;
  /** Human-readable actor name for logs and history. */
  actorName: string;
  permissions: ReadonlySet<string>;
  /** Where the change comes from: api, card, workflow, tool, import, system. */
  source: 'api' | 'card' | 'workflow' | 'tool' | 'import' | 'system';
}

export const SYSTEM_CONTEXT: RequestContext = {
  actorId: 'system',
  actorName: 'system',
  permissions: new Set(['admin']),
  source: 'system',
};
