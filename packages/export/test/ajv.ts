import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import type { SchemaTarget } from '../src/index.js';

/** The committed schema directory (docs/schemas at the repository root). */
export const DOCS_SCHEMAS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'docs',
  'schemas',
);

// RFC 3339 date-time with a UTC offset (the pattern in the schemas checks the rest).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A strict Ajv of the target's dialect, knowing the `date-time` format. */
export function ajvFor(target: SchemaTarget) {
  const options = { strict: true, allErrors: true } as const;
  const ajv = target === 'draft-07' ? new Ajv(options) : new Ajv2020(options);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => DATE_TIME.test(s) });
  return ajv;
}

/** Compile a published schema file (path relative to docs/schemas/<target>/). */
export function publishedValidator(target: SchemaTarget, path: string): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(DOCS_SCHEMAS, target, path), 'utf8')) as object;
  return ajvFor(target).compile(schema);
}

/** Validate every record and return the first failures, readably. */
export function failures(validate: ValidateFunction, records: readonly unknown[]): string[] {
  const out: string[] = [];
  records.forEach((r, i) => {
    if (!validate(r)) out.push(`record ${i}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  });
  return out.slice(0, 5);
}
