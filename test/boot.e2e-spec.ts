import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MetadataBootException } from '../src/metadata/metadata.service';
import { startTestApp } from './support/test-app';

const ROOT = join(__dirname, '..');

/** Persistence across restarts: a data directory on PGlite, a kept schema on PostgreSQL. */
function persistentStore(dir: string) {
  return process.env.DATABASE_URL ? { databaseSchema: `t_${randomBytes(6).toString('hex')}` } : { dataDir: join(dir, 'data') };
}

describe('boot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metacrm-boot-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('imports module files once: a restart with unchanged files adds no versions; a changed file adds one', async () => {
    mkdirSync(join(dir, 'modules', 'products'), { recursive: true });
    const file = join(dir, 'modules', 'products', 'module.json');
    const body = JSON.parse(readFileSync(join(ROOT, 'modules', 'products', 'module.json'), 'utf8'));
    writeFileSync(file, JSON.stringify(body, null, 2));
    const store = persistentStore(dir);

    const first = await startTestApp({ rootDir: dir, ...store }, { keepSchema: true });
    await first.close();
    // Same content, other formatting and key order, no editor-only $schema: still the same checksum.
    const reordered = Object.fromEntries(
      Object.entries(body)
        .filter(([key]) => key !== '$schema')
        .reverse(),
    );
    writeFileSync(file, JSON.stringify(reordered));
    const second = await startTestApp({ rootDir: dir, ...store }, { keepSchema: true });
    const versions = await second.http.get('/api/v1/admin/metadata/modules/products/versions').set('Authorization', second.auth);
    expect(versions.body.data).toHaveLength(1);
    await second.close();

    body.fields.ean = { type: 'text', label: { en: 'EAN code', sv: 'EAN-kod' } };
    writeFileSync(file, JSON.stringify(body));
    const third = await startTestApp({ rootDir: dir, ...store });
    const after = await third.http.get('/api/v1/admin/metadata/modules/products/versions').set('Authorization', third.auth);
    expect(after.body.data.map((v: { version: number; source: string }) => [v.version, v.source])).toEqual([
      [2, 'file'],
      [1, 'file'],
    ]);
    await third.close();
  });

  it('refuses to start on invalid metadata, listing every problem with file and pointer', async () => {
    mkdirSync(join(dir, 'modules', 'gadgets'), { recursive: true });
    mkdirSync(join(dir, 'modules', 'broken'), { recursive: true });
    writeFileSync(
      join(dir, 'modules', 'gadgets', 'module.json'),
      JSON.stringify({
        name: 'gadgets',
        label: { en: 'Gadget' },
        fields: { size: { type: 'huge' }, maker: { type: 'relation', module: 'makers' } },
      }),
    );
    writeFileSync(join(dir, 'modules', 'broken', 'module.json'), '{ "name": "broken", ');
    const start = startTestApp({ rootDir: dir });
    await expect(start).rejects.toBeInstanceOf(MetadataBootException);
    const error = (await start.catch((e: unknown) => e)) as MetadataBootException;
    expect(error.message).toContain('modules/gadgets/module.json#/fields/size/type');
    expect(error.message).toContain('modules/gadgets/module.json#/fields/maker/module');
    expect(error.message).toContain('modules/broken/module.json');
    expect(error.problems.length).toBeGreaterThanOrEqual(3);
  });
});
