// What the docs generators (scripts/gen-*.mjs) share: the `--check` argument, loading the built package they
// document (with a warning when its sources are newer than the build), Markdown helpers, and writing the page or
// checking that the committed one is what would be written.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository's root folder. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Reads the arguments of generator `name` (only `--check` is known) and returns whether to check rather than
 * write. Exits with status 2 and the usage line on anything else.
 */
export function checkArgument(name) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`${name}: unknown argument ${unknown.join(' ')}`);
    console.error(`usage: node scripts/${name}.mjs [--check]`);
    process.exit(2);
  }
  return args.includes('--check');
}

/**
 * Imports the built entry `distEntry` of a package. Exits with status 2 when it has not been built, and warns
 * (without failing) when a file under `srcDir` is newer than the build, so the docs would not match the source.
 */
export async function importBuilt(name, distEntry, srcDir) {
  if (!existsSync(distEntry)) {
    console.error(`${name}: ${relative(root, distEntry)} not found: run \`npm run build\` first.`);
    process.exit(2);
  }
  const built = statSync(distEntry).mtimeMs;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const p = join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(srcDir) && newest(srcDir) > built) {
    const src = relative(root, srcDir);
    const dist = relative(root, dirname(distEntry));
    console.error(
      `${name}: warning: ${src} is newer than ${dist}; run \`npm run build\` so the docs match the source.`,
    );
  }
  return import(pathToFileURL(distEntry).href);
}

/**
 * Writes `generated` to `outFile`, or with `check` exits with status 1 when the committed file differs,
 * saying what generates it (`what`: "from the instrument definitions", …) and how to update it.
 */
export function writeOrCheck({ name, outFile, generated, check, what, wrote }) {
  const outName = relative(root, outFile);
  if (check) {
    const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : null;
    if (current !== generated) {
      console.error(
        `${outName} is out of date${current === null ? ' (missing)' : ''}: it differs from what scripts/${name}.mjs generates ${what}. Run \`node scripts/${name}.mjs\` and commit the result.`,
      );
      process.exit(1);
    }
    console.log(`${outName} is up to date.`);
  } else {
    writeFileSync(outFile, generated);
    console.log(`wrote ${outName} (${wrote})`);
  }
}

/** Text safe inside a Markdown table cell or list item: no line breaks, no unescaped pipes or HTML tags. */
export function esc(text) {
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;');
}

/** A Markdown table. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Inline code. */
export const code = (s) => `\`${s}\``;

/** What an empty table cell shows. */
export const dash = '—';
