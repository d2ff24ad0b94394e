import type { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ndjsonTextLines } from '@kapkit/core';

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

/** What the first pass learns: the line of each episode's last event, and the ids that voids name. */
export interface Scan {
  readonly lastLine: Map<string, number>;
  readonly voidTargets: Set<string>;
}

/**
 * First pass: the last line of each episode, so that an episode's rows are written once nothing more can come
 * for it (adverse events, reviews and voids are accepted after closure), and the ids voided events name (their
 * events are kept for `includeVoided`). Parses only what it must: the episode id by a pattern, JSON otherwise.
 */
export async function scanInput(input: Readable): Promise<Scan> {
  const lastLine = new Map<string, number>();
  const voidTargets = new Set<string>();
  for await (const { line, text } of ndjsonTextLines(input)) {
    const m = EPISODE_ID.exec(text);
    let episodeId = m?.[1];
    const isVoid = text.includes('EventVoided');
    if (episodeId === undefined || isVoid) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        continue;
      }
      if (!isRecord(value)) continue;
      if (typeof value.episodeId === 'string') episodeId = value.episodeId;
      if (value.type === 'EventVoided' && typeof value.voidedEventId === 'string')
        voidTargets.add(value.voidedEventId);
    }
    if (episodeId) lastLine.set(episodeId, line);
  }
  return { lastLine, voidTargets };
}

/** Spool a one-shot stream to a private temporary file (outside the output directory), hashing it. */
async function spool(input: Readable, hash: ReturnType<typeof createHash> | null) {
  const dir = await mkdtemp(join(tmpdir(), 'kapkit-export-input-'));
  await chmod(dir, 0o700);
  const path = join(dir, 'input.ndjson');
  const out = createWriteStream(path, { mode: 0o600 });
  if (hash) input.on('data', (chunk: Buffer | string) => hash.update(chunk));
  await pipeline(input, out);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
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
    return { open: () => createReadStream(spooled.path), remove: () => spooled.remove().catch(() => {}) };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
