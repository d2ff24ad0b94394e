import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../src/markdown.js';
import { type PackageJson, PUBLISHED } from '../src/packages.js';

const run = promisify(execFile);

export interface StagedPackage {
  readonly dir: string;
  readonly name: string;
  /** Folder of the staged package (what `npm publish` packs). */
  readonly path: string;
  readonly manifest: PackageJson;
}

/**
 * Stages the release as a maintainer's `npm run version-packages` would make it: copies each published
 * package (package.json, README, LICENSE and its `files`, built) and the pending changesets into `dir`, and
 * runs `changeset version` there. The working tree is not touched.
 */
export async function stageRelease(dir: string): Promise<StagedPackage[]> {
  mkdirSync(join(dir, 'packages'), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'kapkit-release', private: true, workspaces: ['packages/*'] }, null, 2)}\n`,
  );
  cpSync(join(repoRoot, '.changeset'), join(dir, '.changeset'), { recursive: true });
  for (const { dir: name } of PUBLISHED) {
    const from = join(repoRoot, 'packages', name);
    const to = join(dir, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as PackageJson;
    for (const entry of ['package.json', 'README.md', 'LICENSE', ...(manifest.files ?? [])]) {
      cpSync(join(from, entry), join(to, entry), { recursive: true });
    }
  }
  await run(process.execPath, [join(repoRoot, 'node_modules', '@changesets', 'cli', 'bin.js'), 'version'], {
    cwd: dir,
  });
  return PUBLISHED.map(({ dir: name, name: pkgName }) => {
    const path = join(dir, 'packages', name);
    return {
      dir: name,
      name: pkgName,
      path,
      manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as PackageJson,
    };
  });
}
