/**
 * @kapkit/export: research export of KAP outcome data. Tidy tables (NDJSON, CSV, Parquet) and FHIR R4
 * bundles from an event log, with keyed pseudonyms and days since baseline when de-identifying, a manifest
 * with SHA-256 of every file, a codebook, and JSON Schemas of every public kapkit record.
 * @packageDocumentation
 */

export { type CodebookInput, codebookMarkdown } from './codebook.js';
export {
  activeColumns,
  type ColumnSelection,
  type ColumnSpec,
  parquetType,
  rowSchema,
  TABLE_NAMES,
  type TableName,
  type TableSpec,
} from './columns.js';
export { csvField, csvHeader, csvRecord, neutraliseFormula } from './csv.js';
export {
  type ExportOptions,
  ExportOptionsError,
  type ExportProgress,
  type ExportResult,
  exportEvents,
  type InputProblem,
  PARQUET_ROW_GROUP_ROWS,
} from './export.js';
export { isTempName } from './files.js';
export {
  type FolderVerification,
  moveIntoFolder,
  OutputFolderError,
  prepareOutputFolder,
  stagingFolderFor,
  verifyExportFolder,
} from './folder.js';
export {
  generateSchemas,
  RECORD_SCHEMA_VERSION,
  SCHEMA_TARGETS,
  type SchemaDocument,
  type SchemaTarget,
  schemaFiles,
  schemaId,
  tableSchemaIds,
  writeSchemaFiles,
} from './json-schema.js';
export {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportManifest,
  MANIFEST_VERSION,
  manifestSchema,
} from './manifest.js';
export {
  createPseudonymizer,
  type IdKind,
  type IdMapper,
  MIN_KEY_LENGTH,
  PSEUDONYM_HEX_LENGTH,
  PSEUDONYM_PREFIXES,
  PseudonymKeyError,
} from './pseudonym.js';
export { analysisReportSchema, scoredAssessmentSchema, scoreLineSchema } from './records.js';
export type { Row } from './rows.js';
export { FHIR_BUNDLE_FILE, TABLE_EXTENSIONS, type TableFormat } from './sinks.js';
export {
  assessmentsTable,
  dosingSessionsTable,
  EPISODE_OUTCOME_INSTRUMENTS,
  episodesTable,
  FIXED_POINTS,
  ITEM_COLUMNS,
  itemColumnName,
  tables,
} from './tables.js';
export { VERSION } from './version.js';
