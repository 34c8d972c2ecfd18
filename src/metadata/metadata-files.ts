import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One metadata file as text, named by its path relative to the project root (always with `/`). */
export interface MetadataFile {
  /** e.g. `modules/accounts/module.json` */
  file: string;
  text: string;
}

/**
 * Finds the project root: the nearest folder at or above `startDir` that holds a package.json.
 * Code runs from `src/` under jest and from `dist/src/` after a build, so a fixed `../..` would be wrong
 * in one of them.
 */
export function findProjectRoot(startDir: string = __dirname): string {
  let dir = startDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json found in ${startDir} or any folder above it`);
    dir = parent;
  }
}

/**
 * Reads every `modules/<name>/<fileName>` below `rootDir` (module.json, layout.json, rules.json),
 * sorted by module folder name. Folders without that file are skipped; without a `modules/` folder
 * the result is empty.
 */
export async function readBundleFiles(rootDir: string, fileName: string): Promise<MetadataFile[]> {
  const modulesDir = join(rootDir, 'modules');
  // An empty project (no modules yet) is valid; any other read error is real and propagates.
  if (!existsSync(modulesDir)) return [];
  const entries = await readdir(modulesDir, { withFileTypes: true });
  const folders = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    // Plain code-unit order, so the result does not depend on the machine's locale.
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const files: MetadataFile[] = [];
  for (const folder of folders) {
    const path = join(rootDir, 'modules', folder, fileName);
    if (!existsSync(path)) continue;
    files.push({ file: `modules/${folder}/${fileName}`, text: await readFile(path, 'utf8') });
  }
  return files;
}

/** Every `modules/<name>/module.json` below `rootDir`. */
export function readModuleFiles(rootDir: string): Promise<MetadataFile[]> {
  return readBundleFiles(rootDir, 'module.json');
}
