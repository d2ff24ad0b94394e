import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EVENT_SCHEMA_VERSION, episodeEventSchema, eventSchemas, eventTypes } from '@kapkit/core';
import { builtinInstruments, toJsonSchema as instrumentResponseJsonSchema } from '@kapkit/core/instruments';
import * as z from 'zod';
import { rowSchema, TABLE_NAMES, type TableName } from './columns.js';
import { manifestSchema } from './manifest.js';
import { analysisReportSchema, scoredAssessmentSchema, scoreLineSchema } from './records.js';
import { tables } from './tables.js';

/**
 * JSON Schemas of every public kapkit record, generated from the zod schemas with zod 4's built-in
 * `z.toJSONSchema()` (not the `zod-to-json-schema` package: see docs/decisions/0001), in two dialects.
 */

/** JSON Schema dialects kapkit publishes. */
export const SCHEMA_TARGETS = ['draft-2020-12', 'draft-07'] as const;
export type SchemaTarget = (typeof SCHEMA_TARGETS)[number];

/** Version of the research-table, report and manifest schemas (events carry their own version). */
export const RECORD_SCHEMA_VERSION = 1;

/** One generated JSON Schema file. */
export interface SchemaDocument {
  readonly target: SchemaTarget;
  /** Path relative to the schema directory, e.g. `draft-07/tables/assessments.schema.json`. */
  readonly path: string;
  readonly id: string;
  readonly title: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/**
 * Stable `$id` of a kapkit schema: `urn:kapkit:schema:<target>:<name>:v<version>`, the form ADR 1 gave the
 * instrument-response schemas.
 */
export function schemaId(
  target: SchemaTarget,
  name: string,
  version: number = RECORD_SCHEMA_VERSION,
): string {
  return `urn:kapkit:schema:${target}:${name}:v${version}`;
}

/** `$id`s of the schema of one row of a table, in both dialects. */
export function tableSchemaIds(table: TableName): Record<SchemaTarget, string> {
  return {
    'draft-2020-12': schemaId('draft-2020-12', `table:${table}`),
    'draft-07': schemaId('draft-07', `table:${table}`),
  };
}

interface RecordType {
  readonly name: string;
  readonly path: string;
  readonly version: number;
  readonly zod: z.ZodType;
  /** Events are records callers write, so fields with defaults may be left out: describe the input. */
  readonly io: 'input' | 'output';
}

/** A record written by kapkit (an output), at the record schema version. */
function outputRecord(name: string, path: string, zod: z.ZodType): RecordType {
  return { name, path, version: RECORD_SCHEMA_VERSION, zod, io: 'output' };
}

function recordTypes(): RecordType[] {
  return [
    {
      name: 'episode-event',
      path: 'episode-event.schema.json',
      version: EVENT_SCHEMA_VERSION,
      zod: episodeEventSchema,
      io: 'input',
    },
    ...eventTypes.map(
      (type): RecordType => ({
        name: `event:${type}`,
        path: `events/${type}.schema.json`,
        version: EVENT_SCHEMA_VERSION,
        zod: eventSchemas[type],
        io: 'input',
      }),
    ),
    outputRecord('scored-assessment', 'scored-assessment.schema.json', scoredAssessmentSchema),
    outputRecord('score-line', 'score-line.schema.json', scoreLineSchema),
    ...TABLE_NAMES.map((name) =>
      outputRecord(`table:${name}`, `tables/${name}.schema.json`, rowSchema(tables[name])),
    ),
    outputRecord('analysis-report', 'analysis-report.schema.json', analysisReportSchema),
    outputRecord('export-manifest', 'export-manifest.schema.json', manifestSchema),
  ];
}

/** `$schema` and `$id` first, then title and description, then the rest as generated. */
function ordered(schema: Record<string, unknown>, id: string): Record<string, unknown> {
  const { $schema, $id: _ignored, title, description, ...rest } = schema;
  return {
    $schema,
    $id: id,
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    ...rest,
  };
}

/**
 * Every JSON Schema kapkit publishes, in both dialects: domain events (the union and each type), instrument
 * responses, scored assessments, `kapkit score` lines, the three research tables, the analytics report and
 * the export manifest. Deterministic: the same code gives the same documents.
 */
export function generateSchemas(): SchemaDocument[] {
  const docs: SchemaDocument[] = [];
  for (const target of SCHEMA_TARGETS) {
    for (const r of recordTypes()) {
      const id = schemaId(target, r.name, r.version);
      const generated = z.toJSONSchema(r.zod, { target, io: r.io }) as Record<string, unknown>;
      const schema = ordered(generated, id);
      docs.push({ target, path: `${target}/${r.path}`, id, title: String(schema.title ?? r.name), schema });
    }
    for (const def of builtinInstruments) {
      const schema = instrumentResponseJsonSchema(def, { target });
      docs.push({
        target,
        path: `${target}/instrument-responses/${def.id}.schema.json`,
        id: String(schema.$id),
        title: String(schema.title ?? def.id),
        schema,
      });
    }
  }
  return docs;
}

/** The text of a schema file: two-space JSON and a final newline. */
function schemaFileText(doc: Pick<SchemaDocument, 'schema'>): string {
  return `${JSON.stringify(doc.schema, null, 2)}\n`;
}

/** `index.json`: every schema's `$id`, title and path. */
function schemaIndexText(docs: readonly SchemaDocument[]): string {
  const index = {
    description:
      'JSON Schemas of kapkit records, generated from its zod schemas with z.toJSONSchema() (zod 4), in draft 2020-12 and draft-07. Do not edit: regenerate with `kapkit schema --out <dir>`.',
    schemas: docs.map((d) => ({ id: d.id, title: d.title, target: d.target, path: d.path })),
  };
  return `${JSON.stringify(index, null, 2)}\n`;
}

/** Every file of the schema directory: path → text (schemas and `index.json`). */
export function schemaFiles(): Map<string, string> {
  const docs = generateSchemas();
  const files = new Map<string, string>();
  for (const d of docs) files.set(d.path, schemaFileText(d));
  files.set('index.json', schemaIndexText(docs));
  return files;
}

/** Write every schema file under `dir` (created if needed); returns the paths written, relative to `dir`. */
export async function writeSchemaFiles(dir: string): Promise<string[]> {
  const files = schemaFiles();
  for (const [path, text] of files) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
  }
  return [...files.keys()];
}
