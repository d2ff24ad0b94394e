import * as z from 'zod';
import { TABLE_NAMES } from './columns.js';
import { PSEUDONYM_HEX_LENGTH } from './pseudonym.js';

/** Export formats. */
export const EXPORT_FORMATS = ['ndjson', 'csv', 'parquet', 'fhir'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Version of the manifest layout. */
export const MANIFEST_VERSION = 1;

const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .meta({ description: 'SHA-256 of the file’s bytes, lowercase hex.' });

const count = z.int().min(0);

const schemaIds = z
  .strictObject({
    'draft-2020-12': z.string().meta({ description: '$id of the draft 2020-12 JSON Schema of one record.' }),
    'draft-07': z.string().meta({ description: '$id of the draft-07 JSON Schema of one record.' }),
  })
  .meta({
    description: 'The JSON Schemas of one record of the file (see docs/schemas/ and docs/export.md).',
  });

/** The zod schema of `manifest.json`. */
export const manifestSchema = z
  .strictObject({
    manifestVersion: z.literal(MANIFEST_VERSION).meta({ description: 'Version of this manifest layout.' }),
    kapkitVersion: z.string().meta({ description: 'Version of kapkit that wrote the export.' }),
    format: z.enum(EXPORT_FORMATS).meta({ description: 'Format of the data files.' }),
    deidentified: z.boolean().meta({
      description:
        'Written with --deidentify: pseudonymous ids, days since baseline instead of dates and times, no free text.',
    }),
    deidentification: z
      .strictObject({
        pseudonyms: z.string().meta({ description: 'How identifiers were replaced.' }),
        pseudonymLength: z
          .literal(PSEUDONYM_HEX_LENGTH)
          .meta({ description: 'Hex characters per pseudonym.' }),
        dates: z.string().meta({ description: 'How dates and times were replaced.' }),
        freeText: z.string().meta({ description: 'What happened to free text.' }),
        other: z
          .string()
          .meta({ description: 'Other identifiers (names, contact fields, ages, lot numbers).' }),
      })
      .nullable()
      .meta({ description: 'The de-identification applied; null when not de-identified.' }),
    freeTextIncluded: z.boolean().meta({ description: 'Written with --include-free-text.' }),
    dayZero: z.string().meta({ description: 'What day 0 of every *_day column is.' }),
    files: z
      .array(
        z.strictObject({
          path: z.string().meta({ description: 'File name inside the export directory.' }),
          kind: z.enum(['table', 'fhir-bundle', 'codebook']),
          table: z.enum(TABLE_NAMES).nullable().meta({ description: 'The table, for table files.' }),
          schemas: schemaIds.nullable(),
          rows: count
            .nullable()
            .meta({ description: 'Rows (table files) or resources (FHIR Bundle); null for the codebook.' }),
          bytes: count,
          sha256,
        }),
      )
      .meta({ description: 'Every file of the export except this manifest, with its size and SHA-256.' }),
    input: z
      .strictObject({
        lines: count.meta({
          description: 'Lines read up to the last non-blank one (blank lines between records included).',
        }),
        records: count.meta({ description: 'Non-blank lines.' }),
        accepted: count.meta({ description: 'Events accepted by the episode machine and exported.' }),
        refused: count.meta({ description: 'Events the episode machine refused (excluded).' }),
        malformed: count.meta({
          description: 'Lines that are not JSON or not an event of any episode (excluded).',
        }),
        excluded: count.meta({ description: 'refused + malformed.' }),
        voided: count.meta({
          description:
            'Accepted events later voided as entered in error (EventVoided): left out of every table and resource unless voidedIncluded.',
        }),
        voidedIncluded: z
          .boolean()
          .meta({ description: 'Voided assessments are exported too, marked (--include-voided).' }),
        problemsByCode: z.record(z.string(), count).meta({
          description: 'Excluded lines by reason code (refusal codes of docs/episode.md, invalid-json).',
        }),
        problems: z
          .array(z.strictObject({ line: z.int().min(1), code: z.string() }))
          .meta({ description: 'The first excluded lines (at most 1,000): line number and reason code.' }),
        problemsTruncated: z.boolean().meta({ description: 'More lines were excluded than are listed.' }),
        episodes: count.meta({ description: 'Episodes exported.' }),
        episodesOpenAtEnd: count.meta({ description: 'Of which still open at the end of the input.' }),
        episodesConsentWithdrawn: count.meta({
          description:
            'Episodes left out because the patient withdrew consent to research use (ConsentWithdrawn, scope research-use); de-identified exports only, else 0.',
        }),
        sha256: sha256
          .nullable()
          .meta({ description: 'SHA-256 of the input as read; null in de-identified exports.' }),
      })
      .meta({ description: 'What was read.' }),
  })
  .meta({
    title: 'kapkit export manifest',
    description:
      'manifest.json of a kapkit research export: versions, de-identification, every file with its row count and SHA-256, and the input lines that were excluded.',
  });

export type ExportManifest = z.output<typeof manifestSchema>;
