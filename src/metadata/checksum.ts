import { createHash } from 'node:crypto';

/**
 * sha256 of the value's JSON with object keys sorted, so formatting and key order
 * do not count as changes; nor does the editor-only top-level `$schema`.
 */
export function metadataChecksum(value: unknown): string {
  const body = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value, $schema: undefined } : value;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
