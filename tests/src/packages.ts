import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './markdown.js';

/** The published packages: folder under packages/ and package name. */
export const PUBLISHED = [
  { dir: 'core', name: '@kapkit/core' },
  { dir: 'testing', name: '@kapkit/testing' },
  { dir: 'analytics', name: '@kapkit/analytics' },
  { dir: 'store', name: '@kapkit/store' },
  { dir: 'charts', name: '@kapkit/charts' },
  { dir: 'export', name: '@kapkit/export' },
  { dir: 'cli', name: 'kapkit' },
] as const;

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: { url: string };
  keywords?: string[];
  exports?: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as PackageJson;
}
