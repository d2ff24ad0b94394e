// Generates the API reference in docs/api (Markdown, one page per entry point) from the JSDoc of every
// published package, with TypeDoc and typedoc-plugin-markdown (settings in typedoc.json), so that the
// reference cannot drift from the code.
//
//   node scripts/gen-api-docs.mjs           rewrite docs/api
//   node scripts/gen-api-docs.mjs --check   exit 1 if docs/api is not what would be written
//
// Reads the sources (packages/*/src) and, for types that cross packages, the built declarations: run
// `npm run build` first. The output has no dates, source links or machine paths, so the check can run in CI.
// TypeDoc does not type-check (skipErrorChecking in typedoc.json): each package's typecheck task does that, and
// a type error in a test file must not stop the reference from being written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkArgument, root } from './lib/generator.mjs';

const outDir = join(root, 'docs', 'api');
const check = checkArgument('gen-api-docs');

const tmp = mkdtempSync(join(tmpdir(), 'kapkit-api-docs-'));
const generated = join(tmp, 'api');
try {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', generated],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (check) {
    const differences = compareTrees(generated, outDir);
    if (differences.length > 0) {
      console.error(
        `gen-api-docs: docs/api is out of date with the JSDoc (${differences.length} file(s): ${differences.slice(0, 5).join(', ')}${differences.length > 5 ? ', …' : ''}).`,
      );
      console.error('Run `npm run build && node scripts/gen-api-docs.mjs` and commit docs/api.');
      process.exit(1);
    }
    console.log('gen-api-docs: docs/api is up to date');
  } else {
    rmSync(outDir, { recursive: true, force: true });
    renameSync(generated, outDir);
    console.log(`gen-api-docs: wrote ${listFiles(outDir).length} files to ${relative(root, outDir)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** Files under `dir`, relative to it, sorted. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) =>
      relative(dir, join(e.parentPath ?? e.path, e.name))
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** Paths that are missing on one side or differ in content. */
function compareTrees(expected, actual) {
  const a = listFiles(expected);
  const b = listFiles(actual);
  const all = [...new Set([...a, ...b])].sort();
  return all.filter(
    (f) =>
      !a.includes(f) ||
      !b.includes(f) ||
      readFileSync(join(expected, f), 'utf8') !== readFileSync(join(actual, f), 'utf8'),
  );
}
