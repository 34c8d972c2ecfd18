/**
 * Validates the project's metadata — modules, their formulas, layouts, rules, workflows, tools and
 * the email and document templates, as one set, exactly as the engine does at start — for CI and
 * for admins before they publish.
 *
 *   node dist/scripts/metadata-check.js [rootDir]
 *
 * Prints every problem as `file#pointer: message` (`file:line:column: message` inside a template) and exits 1, or prints what it checked and exits 0.
 * Without rootDir it checks the project this script belongs to.
 */
import { resolve } from 'node:path';
import { findProjectRoot } from '../src/metadata/metadata-files';
import { readMetadataFiles, validateMetadataSet } from '../src/metadata/metadata-set';
import { formatProblems } from '../src/metadata/module.validator';

async function main(argv: string[]): Promise<number> {
  const rootDir = argv[0] ? resolve(argv[0]) : findProjectRoot(__dirname);
  const { sources, problems: parseProblems } = await readMetadataFiles(rootDir);
  const modules = sources.filter((s) => s.kind === 'module').length;
  if (modules === 0 && parseProblems.length === 0) {
    console.error(`no module files found in ${rootDir}/modules/*/module.json`);
    return 1;
  }
  const problems = [...parseProblems, ...(await validateMetadataSet(sources)).problems];
  if (problems.length > 0) {
    console.error(formatProblems(problems));
    const fileCount = new Set(problems.map((p) => p.file)).size;
    console.error(`\n${problems.length} problem(s) in ${fileCount} file(s)`);
    return 1;
  }
  const count = (kind: string) => sources.filter((s) => s.kind === kind).length;
  console.log(
    `${modules} modules, ${count('layout')} layouts, ${count('rules')} rule files, ${count('workflow')} workflows, ${count('tool')} tools, ` +
      `${count('email-template')} email templates and ${count('document-template')} document templates OK`,
  );
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
