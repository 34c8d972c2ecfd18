import type { TestApp } from './test-app';

/** Small record factories: each returns the created record's data, asserting the 201. */
export async function createRecord(t: TestApp, module: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await t.http.post(`/api/v1/${module}`).set('Authorization', t.auth).send(body);
  if (res.status !== 201) throw new Error(`create ${module} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

export function account(t: TestApp, overrides: Record<string, unknown> = {}) {
  return createRecord(t, 'accounts', { name: 'Nordic Timber AB', type: 'customer', city: 'Umeå', ...overrides });
}

export async function createKey(t: TestApp, permissions: string[], name = 'test key'): Promise<string> {
  const res = await t.http.post('/api/v1/admin/api-keys').set('Authorization', t.auth).send({ name, permissions });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return `Bearer ${res.body.data.key}`;
}
