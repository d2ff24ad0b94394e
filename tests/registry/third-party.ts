import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import cacache from 'cacache';
import { repoRoot } from '../src/markdown.js';

interface LockEntry {
  readonly name?: string;
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** A third-party package version the kapkit packages install, as the repository's lockfile pins it. */
export interface ThirdParty {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
  /** Where `npm ci` installed it, relative to the repository root (its package.json is read from there). */
  readonly location: string;
}

const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** Node's lookup of `name` from the package at `from` (a lockfile location), in the lockfile. */
function resolveIn(name: string, from: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut >= 0 ? base.slice(0, cut) : '';
  }
}

/**
 * The third-party packages (exact versions from package-lock.json) that installing `roots` can need: their
 * dependencies, the optional dependencies installed on this platform, and peers, transitively. The kapkit
 * packages themselves (workspace links) are left out: the test publishes their tarballs.
 */
export function thirdPartyClosure(
  roots: readonly { readonly location: string; readonly names: readonly string[] }[],
) {
  const found = new Map<string, ThirdParty>();
  const queue: { name: string; from: string }[] = roots.flatMap((r) =>
    r.names.map((name) => ({ name, from: r.location })),
  );
  const visited = new Set<string>();
  while (queue.length > 0) {
    const { name, from } = queue.shift()!;
    const location = resolveIn(name, from);
    if (!location) throw new Error(`${name} (needed from ${from || 'the root'}) is not in package-lock.json`);
    if (visited.has(location)) continue;
    visited.add(location);
    const entry = lock.packages[location]!;
    const at = location;
    if (entry.link) continue; // a workspace package: published from its tarball
    if (!existsSync(join(repoRoot, at))) continue; // an optional package for another platform
    if (!entry.version || !entry.integrity)
      throw new Error(`${location} has no version or integrity in the lockfile`);
    const key = `${name}@${entry.version}`;
    if (!found.has(key))
      found.set(key, { name, version: entry.version, integrity: entry.integrity, location: at });
    const optionalPeers = entry.peerDependenciesMeta ?? {};
    const next = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((p) => !optionalPeers[p]?.optional),
    ];
    for (const dep of next) {
      if (entry.optionalDependencies?.[dep] && !resolveIn(dep, at)) continue;
      queue.push({ name: dep, from: at });
    }
  }
  return [...found.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
  );
}

/**
 * Publishes each package to the registry with the exact tarball `npm ci` downloaded, read from the npm cache
 * by its lockfile integrity (no network: a missing tarball is an error telling to run `npm ci`).
 */
export async function publishThirdParty(registryUrl: string, token: string, packages: readonly ThirdParty[]) {
  const cache = join(process.env.npm_config_cache ?? join(process.env.HOME ?? '', '.npm'), '_cacache');
  for (const p of packages) {
    let tarball: Buffer;
    try {
      tarball = (await cacache.get.byDigest(cache, p.integrity)) as Buffer;
    } catch {
      throw new Error(`${p.name}@${p.version} is not in the npm cache (${cache}): run "npm ci" first`);
    }
    const manifest = JSON.parse(readFileSync(join(repoRoot, p.location, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const file = `${p.name.split('/').pop()}-${p.version}.tgz`;
    const body = {
      _id: p.name,
      name: p.name,
      'dist-tags': { latest: p.version },
      versions: {
        [p.version]: {
          ...manifest,
          name: p.name,
          version: p.version,
          _id: `${p.name}@${p.version}`,
          dist: {
            integrity: p.integrity,
            shasum: createHash('sha1').update(tarball).digest('hex'),
            tarball: `${registryUrl}/${p.name}/-/${file}`,
          },
        },
      },
      _attachments: {
        [file]: {
          content_type: 'application/octet-stream',
          data: tarball.toString('base64'),
          length: tarball.length,
        },
      },
    };
    const res = await fetch(`${registryUrl}/${p.name.replace('/', '%2f')}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`publishing ${p.name}@${p.version}: ${res.status} ${await res.text()}`);
  }
}
