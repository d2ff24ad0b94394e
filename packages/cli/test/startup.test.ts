import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPORT_FORMATS } from '@kapkit/export';
import { staffRoles } from '@kapkit/store';
import { DEMO_DEFAULT_START } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { DEMO_START, EXPORT_FORMAT_CHOICES, STAFF_ROLES } from '../src/option-values.js';

/*
 * Start-up: the program loads each command's modules only when that command runs, so `kapkit --version`,
 * `--help` and `kapkit validate` do not load the export writers, the store, the charts or the demo generator.
 * Checked on the built bin (its static imports, followed through its chunks; dynamic imports are not followed).
 */

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/** The modules a built file imports statically (`import … from "x"`, `export … from "x"`, `import "x"`). */
function staticImports(file: string): string[] {
  const text = readFileSync(join(dist, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)";|^import\s*"([^"]+)";/gm)) {
    out.push((m[1] ?? m[2]) as string);
  }
  return out;
}

/** Every package a built file loads before it runs: its static imports, through the chunks of dist/. */
function packagesLoaded(file: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const spec of staticImports(f)) {
      if (spec.startsWith('./')) visit(spec.slice(2));
      else packages.add(spec);
    }
  };
  visit(file);
  return packages;
}

/** The chunk the bin loads when a command runs (`import("./validate-….js")`). */
function commandChunk(name: string): string {
  const bin = readFileSync(join(dist, 'bin.js'), 'utf8');
  const m = bin.match(new RegExp(`import\\("\\./(${name}-[A-Z0-9]+\\.js)"\\)`));
  if (!m) throw new Error(`dist/bin.js does not load a ${name} chunk on demand`);
  return m[1] as string;
}

/** The @kapkit packages among `s`, an entry of a package (`@kapkit/core/instruments`) counted as its package. */
const kapkitPackages = (s: Set<string>) =>
  [
    ...new Set([...s].filter((p) => p.startsWith('@kapkit/')).map((p) => p.split('/').slice(0, 2).join('/'))),
  ].sort();

describe('start-up loads only what the command needs', () => {
  it('builds the program (and --version, --help) without any @kapkit package', () => {
    const loaded = packagesLoaded('bin.js');
    expect(kapkitPackages(loaded)).toEqual([]);
    expect(loaded.has('commander')).toBe(true);
  });

  it('validate and analyze load the core (and analyze the analytics), not the export, store, charts or demo data', () => {
    expect(kapkitPackages(packagesLoaded(commandChunk('validate')))).toEqual(['@kapkit/core']);
    expect(kapkitPackages(packagesLoaded(commandChunk('analyze')))).toEqual([
      '@kapkit/analytics',
      '@kapkit/core',
    ]);
  });

  it('each command chunk is loaded on demand', () => {
    for (const name of [
      'score',
      'instruments',
      'demo-data',
      'validate',
      'analyze',
      'export',
      'schema',
      'report',
    ]) {
      expect(commandChunk(name)).toMatch(/\.js$/);
    }
    expect(kapkitPackages(packagesLoaded(commandChunk('store')))).toContain('@kapkit/store');
    expect(kapkitPackages(packagesLoaded(commandChunk('accounts')))).toContain('@kapkit/store');
  });

  it('lists in the help the same values as the packages that define them', () => {
    expect([...EXPORT_FORMAT_CHOICES]).toEqual([...EXPORT_FORMATS]);
    expect([...STAFF_ROLES]).toEqual([...staffRoles]);
    expect(DEMO_START).toBe(DEMO_DEFAULT_START);
  });
});
