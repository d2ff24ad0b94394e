// Writes the JSON Schemas of every public kapkit record, generated from the built package, into a directory:
// `schemas/` of this package by default (shipped as @kapkit/export/schemas/...; run by the build), or the
// directory given, e.g. `node scripts/write-schemas.mjs ../../docs/schemas` to update the committed copy.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSchemaFiles } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.argv[2] ? resolve(process.argv[2]) : join(here, '..', 'schemas');
// No stale schema survives a rename; only what this script writes is removed.
for (const entry of ['draft-2020-12', 'draft-07', 'index.json']) {
  rmSync(join(target, entry), { recursive: true, force: true });
}
const paths = await writeSchemaFiles(target);
console.log(`wrote ${paths.length} schema files to ${target}`);
