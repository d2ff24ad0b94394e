import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, documentationBlocks, repoRoot, SCRIPT_LANGS, where } from '../src/markdown.js';

const run = promisify(execFile);

/**
 * Blocks that are fragments of the text around them, with the names they take from it. Only generated docs
 * may have an entry (a hand-written block is made complete instead); each entry must still match a block.
 * Key: file#n, n = 1-based position among the file's TypeScript/JavaScript blocks.
 */
const FRAGMENTS: Record<string, { readonly declarations: string; readonly why: string }> = {
  'docs/episode.md#1': {
    declarations:
      "import type { EpisodeEvent } from '@kapkit/core';\ndeclare const event: EpisodeEvent;\ndeclare const events: readonly EpisodeEvent[];\ndeclare const now: string;\n",
    why: 'written by scripts/gen-episode-docs.mjs: `event`, `events` and `now` are the ones the paragraph talks about',
  },
};

interface ScriptBlock extends CodeBlock {
  readonly key: string;
  readonly path: string;
  readonly fragment: boolean;
  readonly runs: boolean;
}

const blocksDir = join(repoRoot, 'tests', '.blocks');
const scripts: ScriptBlock[] = [];
{
  const seen = new Map<string, number>();
  for (const block of documentationBlocks()) {
    if (!SCRIPT_LANGS.has(block.lang)) continue;
    const n = (seen.get(block.file) ?? 0) + 1;
    seen.set(block.file, n);
    const key = `${block.file}#${n}`;
    const fragment = key in FRAGMENTS;
    scripts.push({
      ...block,
      key,
      path: join(blocksDir, `${block.file.replace(/[/.]/g, '_')}-${n}.mts`),
      fragment,
      runs: !fragment && !block.flags.includes('no-run'),
    });
  }
}

let diagnostics = new Map<string, string[]>();
const work = mkdtempSync(join(tmpdir(), 'kapkit-docs-'));

beforeAll(() => {
  rmSync(blocksDir, { recursive: true, force: true });
  mkdirSync(blocksDir, { recursive: true });
  for (const b of scripts) {
    const preamble = FRAGMENTS[b.key]?.declarations ?? '';
    writeFileSync(b.path, `${preamble}${b.code}\nexport {};\n`);
  }
  // As an adopter's strict TypeScript project would: ESM under Node's own resolution, DOM types for the
  // browser snippets.
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
  };
  const program = ts.createProgram(
    scripts.map((b) => b.path),
    options,
  );
  diagnostics = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '';
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    diagnostics.set(file, [
      ...(diagnostics.get(file) ?? []),
      `line ${line} of the block: TS${d.code}: ${text}`,
    ]);
  }
  copyFileSync(join(repoRoot, 'examples', 'demo-events.ndjson'), join(work, 'events.ndjson'));
}, 300_000);

afterAll(() => {
  rmSync(blocksDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('code blocks of the READMEs and docs', () => {
  it('finds the TypeScript blocks of every published package README', () => {
    for (const pkg of ['core', 'testing', 'analytics', 'store', 'charts', 'export']) {
      const runnable = scripts.filter((b) => b.file === `packages/${pkg}/README.md` && b.runs);
      expect(runnable.length, `packages/${pkg}/README.md has a complete example`).toBeGreaterThan(0);
    }
  });

  it('declares context only for fragments of generated docs that still exist', () => {
    for (const key of Object.keys(FRAGMENTS)) {
      expect(
        scripts.some((b) => b.key === key),
        `${key} is listed as a fragment but has no block`,
      ).toBe(true);
    }
  });

  it.each(scripts.map((b) => [where(b), b] as const))(
    '%s compiles under strict TypeScript (nodenext)',
    (_, b) => {
      expect(diagnostics.get(b.path) ?? []).toEqual([]);
    },
  );

  it.each(scripts.filter((b) => b.runs).map((b) => [where(b), b] as const))(
    '%s runs to completion as a program',
    async (_, b) => {
      const js = ts.transpileModule(b.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const file = b.path.replace(/\.mts$/, '.mjs');
      writeFileSync(file, js);
      // In a scratch folder holding the synthetic event log the docs call events.ndjson.
      const dir = mkdtempSync(join(work, 'run-'));
      copyFileSync(join(work, 'events.ndjson'), join(dir, 'events.ndjson'));
      const result = await run(process.execPath, [file], {
        cwd: dir,
        env: { ...process.env, KAPKIT_EXPORT_KEY: 'synthetic-test-key-0123456789abcdef' },
      });
      expect(result.stderr).toBe('');
    },
    180_000,
  );
});
