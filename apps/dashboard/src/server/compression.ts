/**
 * Compressed answers. Static files: the build writes a brotli (`.br`) and a gzip (`.gz`) copy of every text
 * asset next to it (scripts/precompress.mjs); the server picks one by the request's `Accept-Encoding`, so it
 * never compresses a file per request. API answers (JSON) are gzip-compressed on the fly by Hono's `compress`
 * middleware (`apiCompression`). Every answer that could differ by encoding says so (`Vary: Accept-Encoding`).
 */
import type { Context } from 'hono';
import { compress } from 'hono/compress';
import type { StaticFile, StaticFiles } from './static.js';

/** A static file with its pre-compressed copies, when the build made them. */
export interface EncodedStaticFile extends StaticFile {
  readonly br?: Uint8Array;
  readonly gzip?: Uint8Array;
}

const SUFFIXES = { '.br': 'br', '.gz': 'gzip' } as const;

/**
 * The static files with each `x.br` / `x.gz` attached to `x` (and not served under its own name). A copy whose
 * original is missing is dropped.
 */
export function withPrecompressed(files: StaticFiles): ReadonlyMap<string, EncodedStaticFile> {
  const out = new Map<string, EncodedStaticFile>();
  for (const [path, f] of files) {
    if (!path.endsWith('.br') && !path.endsWith('.gz')) out.set(path, f);
  }
  for (const [path, f] of files) {
    for (const [suffix, encoding] of Object.entries(SUFFIXES)) {
      if (!path.endsWith(suffix)) continue;
      const base = path.slice(0, -suffix.length);
      const original = out.get(base);
      if (original) out.set(base, { ...original, [encoding]: f.body });
    }
  }
  return out;
}

/**
 * The encoding to send: the best of brotli and gzip the client accepts (`q` > 0; brotli first on a tie), else
 * none. Parses `Accept-Encoding` per RFC 9110 (case-insensitive tokens, `q` weights, `*`).
 */
export function chooseEncoding(
  header: string | undefined,
  available: readonly ('br' | 'gzip')[],
): 'br' | 'gzip' | null {
  if (!header || available.length === 0) return null;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [token, ...params] = part.trim().split(';');
    const name = token?.trim().toLowerCase();
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() === 'q') weight = Number(v);
    }
    q.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const wildcard = q.get('*');
  let best: 'br' | 'gzip' | null = null;
  let bestQ = 0;
  for (const encoding of available) {
    const weight = q.get(encoding) ?? (encoding === 'gzip' ? q.get('x-gzip') : undefined) ?? wildcard ?? 0;
    if (weight > bestQ) {
      best = encoding;
      bestQ = weight;
    }
  }
  return best;
}

/** Answer with a static file, pre-compressed when the client accepts an encoding the build made. */
export function staticAnswer(c: Context, f: EncodedStaticFile, cacheControl: string): Response {
  const available = (['br', 'gzip'] as const).filter((e) => f[e] !== undefined);
  const headers: Record<string, string> = { 'Content-Type': f.type, 'Cache-Control': cacheControl };
  if (available.length) headers.Vary = 'Accept-Encoding';
  const encoding = chooseEncoding(c.req.header('Accept-Encoding'), available);
  const body = encoding === null ? f.body : (f[encoding] as Uint8Array);
  if (encoding !== null) headers['Content-Encoding'] = encoding;
  return c.body(body as unknown as ArrayBuffer, 200, headers);
}

/** gzip for API answers (JSON) above 1 kB, when the client accepts it. */
export const apiCompression = () => compress({ encoding: 'gzip' });
