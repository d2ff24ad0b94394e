import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Path of the Markdown file, relative to the repository root (forward slashes). */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** Language of the fence (`ts`, `sh`, …; empty when none). */
  readonly lang: string;
  /** Words after the language in the fence's info string, e.g. `no-run` in ```` ```ts no-run ````. */
  readonly flags: readonly string[];
  readonly code: string;
}

/** Languages whose blocks are TypeScript or JavaScript programs (compiled, and run when complete). */
export const SCRIPT_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

/** Fenced code blocks (``` or ~~~, not indented) of a Markdown text, in order. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(```+|~~~+)\s*([^\s`]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j]!.startsWith(fence) && lines[j]!.trim() === fence))
      body.push(lines[j++]!);
    blocks.push({
      file,
      line: i + 1,
      lang: open[2]!.toLowerCase(),
      flags: open[3]!.split(/\s+/).filter(Boolean),
      code: `${body.join('\n')}\n`,
    });
    i = j;
  }
  return blocks;
}

/** The Markdown files whose code blocks are checked: every README, CONTRIBUTING and docs/**\/*.md (not docs/api). */
function documentationFiles(): string[] {
  const files = ['README.md', 'CONTRIBUTING.md', 'examples/README.md'];
  for (const dir of ['packages', 'apps']) {
    for (const name of readdirSync(join(repoRoot, dir))) {
      try {
        readFileSync(join(repoRoot, dir, name, 'README.md'));
        files.push(`${dir}/${name}/README.md`);
      } catch {
        // no README in this workspace
      }
    }
  }
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && path !== 'docs/api' && path !== 'docs/schemas') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files.sort();
}

/** Every code block of the documentation files. */
export function documentationBlocks(): CodeBlock[] {
  return documentationFiles().flatMap((f) => codeBlocks(f, readFileSync(join(repoRoot, f), 'utf8')));
}

/** `file:line` of a block, for messages. */
export function where(block: CodeBlock): string {
  return `${block.file}:${block.line}`;
}

/**
 * A program's statements split into its import declarations and the rest, so that a CommonJS build can keep
 * the imports at the top and run the rest inside an async function (CommonJS has no top-level await).
 */
export function wrapForCommonJs(code: string): string {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const imports: string[] = [];
  const body: string[] = [];
  for (const statement of source.statements) {
    const text = code.slice(statement.getFullStart(), statement.getEnd());
    (ts.isImportDeclaration(statement) ? imports : body).push(text);
  }
  if (!hasTopLevelAwait(source)) return code;
  return `${imports.join('')}\n\nvoid (async () => {${body.join('')}\n})().catch((error: unknown) => {\n  console.error(error);\n  process.exitCode = 1;\n});\n`;
}

/** Whether a module uses `await` (or `for await`) outside any function. */
function hasTopLevelAwait(source: ts.SourceFile): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found || ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return found;
}
