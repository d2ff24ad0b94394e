/**
 * The built front end (Vite output), read into memory once at start: a fixed map from URL path to bytes, so
 * no request path ever reaches the file system (no traversal), and every file is one the build produced.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export interface StaticFile {
  readonly body: Uint8Array;
  readonly type: string;
}

export type StaticFiles = ReadonlyMap<string, StaticFile>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
}

/**
 * Load every file under `dir` (source maps excluded). Throws when `dir` has no index.html: build the client
 * first (`npm run build` in apps/dashboard).
 */
export function loadStaticFiles(dir: string): StaticFiles {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      `The dashboard front end is not built (no ${join(dir, 'index.html')}): run npm run build.`,
    );
  }
  const files: string[] = [];
  walk(dir, files);
  const map = new Map<string, StaticFile>();
  for (const path of files) {
    if (path.endsWith('.map')) continue;
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    map.set(url, { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream' });
  }
  return map;
}
