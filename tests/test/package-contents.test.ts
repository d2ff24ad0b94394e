import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codeBlocks, repoRoot } from '../src/markdown.js';
import { PUBLISHED, readPackageJson } from '../src/packages.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const REPOSITORY = 'https://github.com/kapkit/kapkit';

interface PackedFile {
  readonly path: string;
  readonly size: number;
}

const packs = new Map<string, Promise<PackedFile[]>>();

/** What `npm pack` would put in the tarball (after `npm run build`), packed once per package. */
function packed(dir: string): Promise<PackedFile[]> {
  let files = packs.get(dir);
  if (!files) {
    files = run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: join(repoRoot, 'packages', dir),
    }).then(({ stdout }) => (JSON.parse(stdout) as { files: PackedFile[] }[])[0]!.files);
    packs.set(dir, files);
  }
  return files;
}

/** Targets of a package's exports map (strings, nested condition objects), without wildcards. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return value.includes('*') ? [] : [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

const rootLicense = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');

describe.each(PUBLISHED)('the $name tarball', ({ dir, name }) => {
  const pkg = readPackageJson(`packages/${dir}`);

  it('holds README.md, the Apache-2.0 LICENSE and package.json', async () => {
    const files = (await packed(dir)).map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(readFileSync(join(repoRoot, 'packages', dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
    expect(pkg.license).toBe('Apache-2.0');
  });

  it('ships built code only: no sources, tests or source maps', async () => {
    const files = (await packed(dir)).map((f) => f.path);
    expect(files.filter((f) => /^(src|test|bench)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  it('contains every file its exports map points to', async () => {
    const files = new Set((await packed(dir)).map((f) => f.path));
    for (const target of exportTargets(pkg.exports))
      expect(files, target).toContain(target.replace(/^\.\//, ''));
  });

  it('names its repository, homepage, issue tracker and keywords', () => {
    expect(pkg.repository).toEqual({
      type: 'git',
      url: `git+${REPOSITORY}.git`,
      directory: `packages/${dir}`,
    });
    expect(pkg.homepage).toBe(`${REPOSITORY}/tree/main/packages/${dir}#readme`);
    expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    expect(pkg.keywords?.length).toBeGreaterThanOrEqual(3);
  });

  it('depends on other kapkit packages by a caret range on their current version, so it installs alone', () => {
    for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      const internal = PUBLISHED.find((p) => p.name === dep);
      if (!internal) continue;
      expect(range, `${name} → ${dep}`).toBe(`^${readPackageJson(`packages/${internal.dir}`).version}`);
    }
  });

  it('has a README for the registry page: install line, an example, and only absolute links', () => {
    const readme = readFileSync(join(repoRoot, 'packages', dir, 'README.md'), 'utf8');
    const blocks = codeBlocks(`packages/${dir}/README.md`, readme);
    expect(
      blocks.some((b) => b.lang === 'sh' && b.code.includes(`npm install`) && b.code.includes(name)),
    ).toBe(true);
    expect(
      blocks.some((b) => b.lang === 'ts' || (dir === 'cli' && b.lang === 'sh' && b.code.includes('kapkit '))),
    ).toBe(true);
    // Links outside code: [text](target) where target is not http(s), mailto or an in-page anchor.
    const prose = readme.replace(/^```[\s\S]*?^```/gm, '');
    const relative = [...prose.matchAll(/\]\(([^)]+)\)/g)]
      .map((m) => m[1]!)
      .filter((t) => !/^(https?:|mailto:|#)/.test(t));
    expect(relative).toEqual([]);
    // Links into this repository point at files that exist.
    const own = [
      ...prose.matchAll(/\]\((https:\/\/github\.com\/kapkit\/kapkit\/(?:blob|tree)\/main\/([^)#]+))/g),
    ];
    for (const [, url, path] of own) expect(existsSync(join(repoRoot, path!)), url).toBe(true);
  });
});

describe('the heavy and native dependencies stay optional', () => {
  it('@kapkit/analytics depends on @kapkit/core alone', () => {
    expect(Object.keys(readPackageJson('packages/analytics').dependencies ?? {})).toEqual(['@kapkit/core']);
  });

  it('@kapkit/charts takes chart.js as a peer and needs @napi-rs/canvas and date-fns only for /render', () => {
    const pkg = readPackageJson('packages/charts');
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(['@kapkit/analytics', '@kapkit/core']);
    expect(pkg.peerDependencies).toMatchObject({
      'chart.js': expect.any(String),
      '@napi-rs/canvas': expect.any(String),
    });
    expect(pkg.peerDependenciesMeta).toEqual({
      '@napi-rs/canvas': { optional: true },
      'date-fns': { optional: true },
    });
  });
});
