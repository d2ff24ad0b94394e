// Shared by the benchmarks: writes one section of docs/benchmarks.md, between markers, leaving the others.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'docs', 'benchmarks.md');

const HEADER = `# Benchmarks

Produced by \`npm run bench\`. Every figure is a ratio against a baseline run **in the same process, on the
same data**, because the machines are shared and absolute times are noisy. Each section is rewritten by its
own benchmark; the machine line says where it ran.
`;

/** The machine, for the record. */
export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Node ${process.version}, ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${new Date().toISOString().slice(0, 10)}`;
}

/** Replace (or append) the section `name` of docs/benchmarks.md with `markdown`. */
export function writeSection(name, markdown) {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same data. */
export { prng } from '../test-support/prng.mjs';
