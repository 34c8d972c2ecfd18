/**
 * Validates the project's module metadata, for CI and for admins before they publish.
 *
 *   node dist/scripts/metadata-check.js [rootDir]
 *
 * Prints every problem as `file#pointer: message` and exits 1, or prints "N modules OK" and exits 0.
 * Without rootDir it checks the project this script belongs to.
 */
import { resolve } from 'node:path';
import { findProjectRoot, readModuleFiles } from '../src/metadata/metadata-files';
import { formatProblems, validateModules } from '../src/metadata/module.validator';

async function main(argv: string[]): Promise<number> {
  const rootDir = argv[0] ? resolve(argv[0]) : findProjectRoot(__dirname);
  const files = await readModuleFiles(rootDir);
  if (files.length === 0) {
    console.error(`no module files found in ${rootDir}/modules/*/module.json`);
    return 1;
  }
  const { problems } = validateModules(files);
  if (problems.length > 0) {
    console.error(formatProblems(problems));
    const fileCount = new Set(problems.map((p) => p.file)).size;
    console.error(`\n${problems.length} problem(s) in ${fileCount} of ${files.length} module file(s)`);
    return 1;
  }
  console.log(`${files.length} modules OK`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // exitCode rather than exit(): lets stdout and stderr flush when piped.
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
