import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { digestFile, isTempName } from './files.js';
import { manifestSchema } from './manifest.js';

/**
 * Export folders: an export goes into an empty folder, or replaces an earlier kapkit export there (`force`),
 * never mixes with other files; it is written in a staging folder beside the output folder (so no temporary
 * file, identified or not, is ever inside it) and moved in when complete, the manifest last; and a folder can
 * be verified against its manifest.
 */

/** The output folder cannot be used as asked; the message says why and what to do. */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

const STAGING = '.kapkit-staging-';

/** The files an earlier export wrote in `dir`, per its manifest (with the manifest itself), or null. */
async function previousExport(dir: string): Promise<Set<string> | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    return null;
  }
  let parsed: ReturnType<typeof manifestSchema.safeParse>;
  try {
    parsed = manifestSchema.safeParse(JSON.parse(text));
  } catch {
    return null;
  }
  if (!parsed.success) return null;
  return new Set([...parsed.data.files.map((f) => f.path), 'manifest.json']);
}

const listing = (names: readonly string[]) =>
  `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … (${names.length} in all)` : ''}`;

/**
 * Make `outDir` ready for an export: missing or empty is fine; a non-empty folder is refused unless `force`,
 * which removes only the files the previous export wrote there (its manifest's list, the manifest, and
 * kapkit temporary files of older versions). Any other file makes it refuse, even with `force`.
 *
 * @example
 * ```ts
 * await prepareOutputFolder('exports/2026-03', { force: process.argv.includes('--force') });
 * ```
 */
export async function prepareOutputFolder(outDir: string, options: { force?: boolean } = {}): Promise<void> {
  if (!existsSync(outDir)) return;
  const names = (await readdir(outDir)).sort();
  if (names.length === 0) return;
  if (!options.force) {
    throw new OutputFolderError(
      `${outDir} is not empty (${listing(names)}). Choose an empty or new folder, or pass --force to replace an earlier kapkit export there.`,
    );
  }
  const ours = (await previousExport(outDir)) ?? new Set<string>();
  const foreign = names.filter((n) => !ours.has(n) && !isTempName(n));
  if (foreign.length > 0) {
    throw new OutputFolderError(
      `${outDir} holds files that no kapkit export listed in its manifest.json (${listing(foreign)}): --force removes only those of the previous export. Move the others away, or choose another folder.`,
    );
  }
  // The manifest first: a folder is never described by a manifest whose files are gone.
  await rm(join(outDir, 'manifest.json'), { force: true });
  for (const n of names) await rm(join(outDir, n), { force: true });
}

/**
 * A private staging folder beside `outDir` (same file system, so files move in with a rename), readable by
 * the owner only. Stale staging folders of earlier, killed exports into the same folder are removed first.
 */
export async function stagingFolderFor(outDir: string): Promise<string> {
  const parent = dirname(resolve(outDir));
  await mkdir(parent, { recursive: true });
  const prefix = `.${basename(resolve(outDir))}${STAGING}`;
  for (const n of await readdir(parent)) {
    if (n.startsWith(prefix)) await rm(join(parent, n), { recursive: true, force: true });
  }
  return mkdtemp(join(parent, `${prefix}${randomBytes(3).toString('hex')}-`));
}

/**
 * Move the finished files of a staging folder into `outDir` (manifest last), then remove the staging folder.
 * @returns the paths in `outDir`.
 */
export async function moveIntoFolder(
  staging: string,
  outDir: string,
  names: readonly string[],
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const ordered = [
    ...names.filter((n) => n !== 'manifest.json'),
    ...names.filter((n) => n === 'manifest.json'),
  ];
  const moved: string[] = [];
  for (const n of ordered) {
    await rename(join(staging, n), join(outDir, n));
    moved.push(join(outDir, n));
  }
  await rm(staging, { recursive: true, force: true });
  return moved;
}

/** What `kapkit export --verify` found. */
export interface FolderVerification {
  readonly ok: boolean;
  /** Files checked against the manifest. */
  readonly checked: number;
  readonly problems: readonly string[];
}

/**
 * Check an export folder against its `manifest.json`: every listed file present with the listed size and
 * SHA-256, and no file the manifest does not list.
 */
export async function verifyExportFolder(dir: string): Promise<FolderVerification> {
  const problems: string[] = [];
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    return { ok: false, checked: 0, problems: [`${join(dir, 'manifest.json')} is missing`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, checked: 0, problems: ['manifest.json is not JSON'] };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      checked: 0,
      problems: parsed.error.issues.map(
        (i) => `manifest.json: ${i.path.join('.') || '(root)'}: ${i.message}`,
      ),
    };
  }
  const listed = new Set(parsed.data.files.map((f) => f.path));
  let checked = 0;
  for (const f of parsed.data.files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) {
      problems.push(`${f.path}: listed in the manifest but missing`);
      continue;
    }
    const d = await digestFile(path);
    checked++;
    if (d.bytes !== f.bytes) problems.push(`${f.path}: ${d.bytes} bytes, the manifest says ${f.bytes}`);
    else if (d.sha256 !== f.sha256) problems.push(`${f.path}: SHA-256 differs from the manifest`);
  }
  for (const n of (await readdir(dir)).sort()) {
    if (n !== 'manifest.json' && !listed.has(n)) problems.push(`${n}: not listed in the manifest`);
  }
  return { ok: problems.length === 0, checked, problems };
}
