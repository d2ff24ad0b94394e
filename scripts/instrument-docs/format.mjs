// Part of scripts/gen-instrument-docs.mjs: how numbers, ranges, item lists and sources are written.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { esc, root } from '../lib/generator.mjs';

/** Where the built-in definitions' sources are (to link each to its file). */
export const instrumentsSrc = join(root, 'packages', 'core', 'src', 'instruments');

// ---------------------------------------------------------------------------------------------------------
// Formatting helpers

/** A sentence: the text with a full stop unless it already ends with one. */
export function sentence(text) {
  const t = esc(text).trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

export const OP = { '>=': '≥', '>': '>', '<=': '≤', '<': '<' };
export const DIRECTION = { 'higher-is-worse': 'higher is worse', 'higher-is-better': 'higher is better' };
export const PURPOSE = { outcome: 'outcome', session: 'session' };

export const num = (n) => String(n);
export const range = (min, max) => `${num(min)}–${num(max)}`;

/** "1–5" for a run of consecutive numbers, else "1, 3, 7". */
export function itemList(items) {
  const sorted = [...items];
  const consecutive = sorted.length > 2 && sorted.every((n, i) => i === 0 || n === sorted[i - 1] + 1);
  return consecutive ? `${sorted[0]}–${sorted[sorted.length - 1]}` : sorted.join(', ');
}

function itemScale(def, index) {
  return def.items[index]?.scale ?? def.scale;
}

/** "9 × 0–3" (items × answer scale). */
export function itemsByScale(def) {
  const scales = new Set(def.items.map((_, i) => range(itemScale(def, i).min, itemScale(def, i).max)));
  return `${def.items.length} × ${scales.size === 1 ? [...scales][0] : 'mixed scales'}`;
}

/** The source file that defines an instrument, found by its `id: '…'` line (omitted when not found). */
const sourceFiles = existsSync(instrumentsSrc)
  ? readdirSync(instrumentsSrc)
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => ({ path: join(instrumentsSrc, f), text: readFileSync(join(instrumentsSrc, f), 'utf8') }))
  : [];
export function definedIn(def) {
  const hit = sourceFiles.find((f) => f.text.includes(`id: '${def.id}',`));
  return hit ? relative(root, hit.path).split('\\').join('/') : undefined;
}
