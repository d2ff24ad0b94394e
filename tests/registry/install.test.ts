import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, repoRoot, wrapForCommonJs } from '../src/markdown.js';
import { PUBLISHED } from '../src/packages.js';
import { type StagedPackage, stageRelease } from './release.js';
import { publishThirdParty, thirdPartyClosure } from './third-party.js';
import { type LocalRegistry, startRegistry } from './verdaccio.js';

/*
 * The adopter's path, end to end, with no network beyond 127.0.0.1:
 *
 * 1. Stage the release as `changeset version` makes it (the first release is 0.1.0, kapkit packages depend
 *    on each other by ^0.1.0), from the built packages.
 * 2. Start verdaccio on 127.0.0.1 with its storage in a temp folder and no uplinks. Publish every kapkit
 *    package with `npm publish`, and every third-party package they need at the exact version of
 *    package-lock.json, from the tarball `npm ci` left in the npm cache (the registry cannot fetch anything).
 * 3. For each package, in a fresh ESM project and a fresh CommonJS project: `npm install` exactly what its
 *    README's install lines say (nothing else from the repository), type-check each README example under
 *    `nodenext` and `bundler` resolution (TypeScript strict, as `tsc --init` sets it up), build it with
 *    nodenext and run it with Node. The CLI runs its README's shell example instead.
 *
 * Installs use the registry only, with --prefer-offline: tarballs already in the npm cache are not
 * downloaded again.
 */

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'kapkit-registry-'));
let registry: LocalRegistry;
let staged: StagedPackage[];
let npmrc: string;

beforeAll(async () => {
  staged = await stageRelease(join(work, 'release'));
  registry = await startRegistry(join(work, 'registry'));
  npmrc = join(work, 'npmrc');
  writeFileSync(
    npmrc,
    `registry=${registry.url}/\n${registry.url.replace(/^http:/, '')}/:_authToken=${registry.token}\n`,
  );
  const needs = staged.map((p) => ({
    location: `packages/${p.dir}`,
    names: [...Object.keys(p.manifest.dependencies ?? {}), ...Object.keys(p.manifest.peerDependencies ?? {})],
  }));
  await publishThirdParty(registry.url, registry.token, thirdPartyClosure(needs));
  for (const p of staged) {
    await run(
      npm,
      ['publish', p.path, '--registry', `${registry.url}/`, '--userconfig', npmrc, '--ignore-scripts'],
      {
        cwd: work,
      },
    );
  }
}, 900_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Package specs of the `npm install ...` lines in a README's shell blocks (a global install becomes local). */
function installSpecs(readme: string): string[] {
  const specs = new Set<string>();
  for (const block of codeBlocks('README.md', readme).filter((b) => b.lang === 'sh')) {
    for (const line of block.code.split('\n')) {
      const m = /^npm install\s+([^#]+)/.exec(line.trim());
      if (!m) continue;
      for (const arg of m[1]!.trim().split(/\s+/)) if (!arg.startsWith('-')) specs.add(arg);
    }
  }
  return [...specs];
}

async function npmIn(cwd: string, args: string[]) {
  return run(npm, [...args, '--registry', `${registry.url}/`, '--userconfig', npmrc], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      // Any request that is not to the local registry goes to a closed local port and fails at once, so the
      // test cannot pass by reaching another registry.
      npm_config_proxy: 'http://127.0.0.1:9',
      npm_config_https_proxy: 'http://127.0.0.1:9',
      npm_config_noproxy: '127.0.0.1',
    },
  });
}

/** Names of every package in an installed project (npm ls --all). */
async function installedNames(cwd: string): Promise<Set<string>> {
  const { stdout } = await npmIn(cwd, ['ls', '--all', '--json']);
  const names = new Set<string>();
  const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      names.add(name);
      walk(node.dependencies as never);
    }
  };
  walk((JSON.parse(stdout) as { dependencies?: never }).dependencies);
  return names;
}

function tsconfig(resolution: 'nodenext' | 'bundler') {
  return {
    compilerOptions: {
      target: 'es2022',
      lib: ['es2023'],
      module: resolution === 'nodenext' ? 'nodenext' : 'preserve',
      moduleResolution: resolution,
      strict: true,
      skipLibCheck: true,
      esModuleInterop: true,
      types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules', '@types')],
      rootDir: '.',
      outDir: 'out',
      ...(resolution === 'bundler' ? { noEmit: true } : {}),
    },
    include: ['example-*.ts'],
  };
}

describe('the first release is 0.1.0, with caret ranges between kapkit packages', () => {
  it('changeset version makes every package 0.1.0 and its kapkit dependencies ^0.1.0', () => {
    for (const p of staged) {
      expect(p.manifest.version, p.name).toBe('0.1.0');
      for (const [dep, range] of Object.entries(p.manifest.dependencies ?? {})) {
        if (PUBLISHED.some((q) => q.name === dep)) expect(range, `${p.name} → ${dep}`).toBe('^0.1.0');
      }
    }
  });
});

describe.each(['module', 'commonjs'] as const)('installed alone into a fresh %s project', (kind) => {
  it.each(PUBLISHED.map((p) => [p.name, p] as const))(
    '%s installs from its README and its README examples type-check and run',
    async (_, { dir, name }) => {
      const readme = readFileSync(join(repoRoot, 'packages', dir, 'README.md'), 'utf8');
      const project = join(work, `${kind}-${dir}`);
      mkdirSync(project, { recursive: true });
      writeFileSync(
        join(project, 'package.json'),
        `${JSON.stringify({ name: `adopter-${dir}`, version: '1.0.0', private: true, type: kind }, null, 2)}\n`,
      );
      const specs = installSpecs(readme);
      expect(specs).toContain(name);
      await npmIn(project, ['install', '--prefer-offline', ...specs]);
      const installed = JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8'));
      expect(installed.version).toBe('0.1.0');

      if (dir === 'cli') {
        const example = codeBlocks('README.md', readme).find(
          (b) => b.lang === 'sh' && b.code.includes('kapkit demo-data'),
        );
        writeFileSync(join(project, 'example.sh'), example!.code);
        const env = {
          ...process.env,
          PATH: `${join(project, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`,
        };
        const { stdout } = await run('bash', ['-e', 'example.sh'], {
          cwd: project,
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
        expect(stdout).toMatch(/phq9/);
        expect(readFileSync(join(project, 'report.png')).subarray(1, 4).toString()).toBe('PNG');
        return;
      }

      const examples = codeBlocks('README.md', readme).filter(
        (b) => b.lang === 'ts' && !b.flags.includes('no-run'),
      );
      expect(examples.length).toBeGreaterThan(0);
      examples.forEach((b, i) => {
        writeFileSync(
          join(project, `example-${i + 1}.ts`),
          kind === 'commonjs' ? wrapForCommonJs(b.code) : b.code,
        );
      });
      for (const resolution of ['nodenext', 'bundler'] as const) {
        writeFileSync(
          join(project, `tsconfig.${resolution}.json`),
          JSON.stringify(tsconfig(resolution), null, 2),
        );
        const check = await run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], {
          cwd: project,
        }).then(
          () => '',
          (e: { stdout: string }) => e.stdout,
        );
        expect(check, `${resolution} resolution`).toBe('');
      }
      for (let i = 1; i <= examples.length; i++) {
        const { stderr } = await run(process.execPath, [join('out', `example-${i}.js`)], { cwd: project });
        expect(stderr, `example ${i}`).toBe('');
      }
    },
    600_000,
  );
});

describe('what an install brings', () => {
  it('@kapkit/analytics brings only @kapkit/core, xstate and zod', async () => {
    expect([...(await installedNames(join(work, 'module-analytics')))].sort()).toEqual([
      '@kapkit/analytics',
      '@kapkit/core',
      'xstate',
      'zod',
    ]);
  });

  it('in CommonJS an analytics error is instanceof the KapkitError of every @kapkit/core entry', async () => {
    const project = join(work, 'commonjs-analytics');
    const entries = ['@kapkit/core', '@kapkit/core/read', '@kapkit/core/instruments', '@kapkit/core/time'];
    const script = [
      "const { fitLinearMixedModel, ModelNotEstimableError } = require('@kapkit/analytics');",
      `const entries = ${JSON.stringify(entries)}.map((name) => require(name));`,
      "try { fitLinearMixedModel([{ group: 'a', x: 0, y: 1 }]); } catch (e) {",
      '  console.log(e instanceof ModelNotEstimableError, ...entries.map((entry) => e instanceof entry.KapkitError));',
      '}',
    ].join('\n');
    writeFileSync(join(project, 'instanceof.cjs'), script);
    const { stdout } = await run(process.execPath, ['instanceof.cjs'], { cwd: project });
    expect(stdout.trim()).toBe('true true true true true');
  });

  it('every @kapkit/core entry loads in ESM and CommonJS, and only the main one loads XState', async () => {
    const entries = [
      '@kapkit/core/instruments',
      '@kapkit/core/time',
      '@kapkit/core/vocabularies',
      '@kapkit/core/read',
    ];
    const cjs = join(work, 'commonjs-analytics');
    writeFileSync(
      join(cjs, 'entries.cjs'),
      [
        "const { sep } = require('node:path');",
        `const loaded = ${JSON.stringify(entries)}.map((name) => Object.keys(require(name)).length > 0);`,
        "const xstate = Object.keys(require.cache).some((file) => file.split(sep).includes('xstate'));",
        'console.log(loaded.every(Boolean), xstate);',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['entries.cjs'], { cwd: cjs });
    expect(stdout.trim()).toBe('true false');
    const esm = join(work, 'module-analytics');
    writeFileSync(
      join(esm, 'entries.mjs'),
      [
        `import { createRequire } from 'node:module';`,
        `const require = createRequire(import.meta.url);`,
        `for (const name of ${JSON.stringify(entries)}) if (Object.keys(await import(name)).length === 0) throw new Error(name);`,
        `const { decide } = await import('@kapkit/core');`,
        `console.log(typeof decide, require.resolve('@kapkit/core/time').endsWith('time.cjs'));`,
      ].join('\n'),
    );
    const out = await run(process.execPath, ['entries.mjs'], { cwd: esm });
    expect(out.stdout.trim()).toBe('function true');
  });
});
