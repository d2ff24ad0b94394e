import { createCipheriv, createDecipheriv, type createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipe, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ByteLine, lineText, ndjsonByteLines, plainEpisodeId, WordInLines } from './lines.js';

/*
 * Stage 1 of an export, reading: make the input readable twice (a one-shot stream is spooled to a private
 * temporary file) and scan it once for what the fold needs to know ahead (each episode's last line, voided ids).
 */

/** Where an export reads its events: a stream (read once, spooled to a private temporary file) or a way to open it. */
export type ExportInput = Readable | (() => Readable);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const EPISODE_ID = /"episodeId"\s*:\s*"([^"\\]*)"/;
const EPISODE_KEY = '"episodeId"';

/**
 * A copy of `s` that does not point into the string it was cut from. V8 keeps a substring of 13 characters or
 * more as a view of its parent, here the whole chunk of input the line was read from: an episode id kept as a
 * map key would keep its chunk (64 KiB) alive, and the first pass, which keeps one id per episode, would hold
 * most of an interleaved log in memory (measured: 358 MB for a 441 MB log of 20,834 episodes). Slicing a fresh
 * concatenation copies the characters.
 */
function ownString(s: string): string {
  return ` ${s}`.slice(1);
}

/**
 * The episode a line belongs to, as both passes of an export route it: by a pattern when the line names
 * `"episodeId"` exactly once with a plain string value (no escapes), otherwise by parsing the line (`value` is
 * then the parsed line, or `undefined` when it is not JSON). Both passes call it, so they always agree on which
 * lines form an episode. A pattern match on a nested key (the line has no top-level episodeId) only routes a
 * line that the fold refuses as `invalid-event` whatever the episode's state.
 */
export function episodeOfLine(text: string): { episodeId: string | null; parsed: boolean; value?: unknown } {
  const at = text.indexOf(EPISODE_KEY);
  if (at !== -1 && text.indexOf(EPISODE_KEY, at + EPISODE_KEY.length) === -1) {
    const m = EPISODE_ID.exec(text);
    if (m?.[1]) return { episodeId: ownString(m[1]), parsed: false };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { episodeId: null, parsed: true };
  }
  const id =
    isRecord(value) && typeof value.episodeId === 'string' && value.episodeId !== '' ? value.episodeId : null;
  return { episodeId: id, parsed: true, value };
}

/** What the first pass learns: the line of each episode's last event, and the ids that voids name. */
export interface Scan {
  readonly lastLine: Map<string, number>;
  readonly voidTargets: Set<string>;
}

/**
 * The episode a line belongs to, as {@link episodeOfLine} tells it, read from the line's bytes when they show it
 * plainly (see `plainEpisodeId`); `text` is the decoded line when it had to be decoded.
 */
export function episodeOfBytes(l: ByteLine): {
  episodeId: string | null;
  parsed: boolean;
  value?: unknown;
  text?: string;
} {
  const plain = plainEpisodeId(l);
  if (plain !== undefined) return { episodeId: plain, parsed: false };
  const text = lineText(l);
  return { ...episodeOfLine(text), text };
}

/**
 * First pass: the last line of each episode, so that an episode is folded and written once nothing more can
 * come for it (adverse events, reviews and voids are accepted after closure), and the ids voided events name
 * (their events are kept for `includeVoided`). Parses only what it must: the episode id from the bytes when it
 * can, by a pattern or JSON otherwise (see {@link episodeOfBytes}).
 */
export async function scanInput(input: Readable): Promise<Scan> {
  const lastLine = new Map<string, number>();
  const voidTargets = new Set<string>();
  const voids = new WordInLines('EventVoided');
  for await (const l of ndjsonByteLines(input)) {
    const route = episodeOfBytes(l);
    if (voids.in(l)) {
      let value = route.value;
      if (!route.parsed) {
        try {
          value = JSON.parse(route.text ?? lineText(l));
        } catch {}
      }
      if (isRecord(value) && value.type === 'EventVoided' && typeof value.voidedEventId === 'string')
        voidTargets.add(value.voidedEventId);
    }
    if (route.episodeId !== null) lastLine.set(route.episodeId, l.line);
  }
  return { lastLine, voidTargets };
}

/**
 * Spool a one-shot stream to a private temporary file (outside the output directory), hashing it. The input is
 * identified even when the export is de-identified, so the file holds it encrypted (AES-256-CTR under a random
 * key and counter drawn for this file and kept only in the process's memory); `open` reads it back decrypted.
 */
async function spool(input: Readable, hash: ReturnType<typeof createHash> | null) {
  const dir = await mkdtemp(join(tmpdir(), 'kapkit-export-input-'));
  await chmod(dir, 0o700);
  const path = join(dir, 'input.ndjson');
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const out = createWriteStream(path, { mode: 0o600 });
  if (hash) input.on('data', (chunk: Buffer | string) => hash.update(chunk));
  await pipeline(input, createCipheriv('aes-256-ctr', key, iv), out);
  return {
    // Errors of the file stream reach the reader through the decipher (pipeline destroys both with them).
    open: (): Readable => pipe(createReadStream(path), createDecipheriv('aes-256-ctr', key, iv), () => {}),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** An input that can be opened as many times as the export reads it. */
export interface ReopenableInput {
  open(): Readable;
  /** Remove the spooled copy, if any. Never throws. */
  remove(): Promise<void>;
}

/**
 * Make `input` readable twice. A function is used as it is; a stream is spooled (and hashed into `hash`, when
 * given), and destroyed if `signal` aborts while it is being read.
 */
export async function reopenable(
  input: ExportInput,
  hash: ReturnType<typeof createHash> | null,
  signal: AbortSignal | undefined,
): Promise<ReopenableInput> {
  if (typeof input === 'function') return { open: input, remove: async () => {} };
  const stop = () => input.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const spooled = await spool(input, hash);
    return { open: spooled.open, remove: () => spooled.remove().catch(() => {}) };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
