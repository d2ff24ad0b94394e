/**
 * The research export the dashboard offers: `exportEvents` of @kapkit/export (the same code as `kapkit
 * export`) over every event of the store, de-identified (keyed pseudonyms, days since baseline instead of
 * dates, no free text), written to a temporary folder with its manifest and codebook, and packed as a
 * `.tar.gz` download. Nothing of it is kept on disk afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { EpisodeEvent } from '@kapkit/core';
import { EXPORT_FORMATS, type ExportFormat, exportEvents, MIN_KEY_LENGTH } from '@kapkit/export';
import type { ResearchExporter } from './options.js';

/** One file of a tar archive. */
interface TarEntry {
  readonly name: string;
  readonly body: Uint8Array;
  readonly mtimeMs: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A POSIX ustar archive (regular files only, names up to 100 bytes), as `tar -xf` reads it. */
function tar(entries: readonly TarEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const e of entries) {
    const name = enc.encode(e.name);
    if (name.length > 100) throw new Error(`tar: file name longer than 100 bytes: ${e.name}`);
    const header = new Uint8Array(512);
    const put = (offset: number, text: string) => header.set(enc.encode(text), offset);
    header.set(name, 0);
    put(100, octal(0o644, 8)); // mode
    put(108, octal(0, 8)); // uid
    put(116, octal(0, 8)); // gid
    put(124, octal(e.body.length, 12)); // size
    put(136, octal(Math.floor(e.mtimeMs / 1000), 12)); // mtime
    put(148, '        '); // checksum, as spaces while summing
    put(156, '0'); // regular file
    put(257, 'ustar\u000000'); // magic "ustar\0" + version "00"
    let sum = 0;
    for (const b of header) sum += b;
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, e.body);
    const pad = (512 - (e.body.length % 512)) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
  }
  blocks.push(new Uint8Array(1024)); // two empty blocks end the archive
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

export interface ExporterOptions {
  /**
   * Pseudonymisation key (at least 32 characters). Default `KAPKIT_EXPORT_KEY`; without one, a random key
   * per download, so pseudonyms cannot be linked across downloads.
   */
  readonly key?: string;
}

/** The dashboard's research exporter over @kapkit/export. */
export function researchExporter(options: ExporterOptions = {}): {
  exporter: ResearchExporter;
  note: string;
} {
  const fixedKey = options.key ?? process.env.KAPKIT_EXPORT_KEY;
  if (fixedKey !== undefined && fixedKey.length < MIN_KEY_LENGTH) {
    throw new Error(`KAPKIT_EXPORT_KEY must have at least ${MIN_KEY_LENGTH} characters.`);
  }
  const exporter: ResearchExporter = {
    formats: EXPORT_FORMATS,
    contentType: 'application/gzip',
    fileName: (asOf, format) => `kapkit-research-export-${format}-${asOf.slice(0, 10)}.tar.gz`,
    async build(events: AsyncIterable<EpisodeEvent>, asOf: string, format: string) {
      if (!(EXPORT_FORMATS as readonly string[]).includes(format))
        throw new Error(`unknown export format ${format}`);
      const dir = await mkdtemp(join(tmpdir(), 'kapkit-dashboard-export-'));
      try {
        const lines = Readable.from(
          (async function* () {
            for await (const e of events) yield `${JSON.stringify(e)}\n`;
          })(),
        );
        const result = await exportEvents(lines, {
          format: format as ExportFormat,
          outDir: dir,
          deidentify: { key: fixedKey ?? randomBytes(32).toString('hex') },
        });
        const folder = `kapkit-export-${format}-${asOf.slice(0, 10)}`;
        const entries: TarEntry[] = [];
        for (const path of result.files) {
          entries.push({
            name: `${folder}/${basename(path)}`,
            body: await readFile(path),
            mtimeMs: Date.parse(asOf),
          });
        }
        return gzipSync(tar(entries));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return {
    exporter,
    note: `De-identified with @kapkit/export (as \`kapkit export --deidentify\`): keyed pseudonyms instead of ids, days since baseline instead of dates, no free text; a manifest (SHA-256 of every file) and a codebook. ${
      fixedKey
        ? 'Pseudonyms are stable across downloads (KAPKIT_EXPORT_KEY).'
        : 'A new random key per download: pseudonyms differ between downloads (set KAPKIT_EXPORT_KEY to keep them stable).'
    }`,
  };
}
