import * as z from 'zod';
import { type InstrumentDefinition, itemScale, type ResponseScale } from './definition.js';

/** JSON Schema dialects kapkit publishes. */
export type JsonSchemaTarget = 'draft-2020-12' | 'draft-07';

function scaleDescription(scale: ResponseScale): string {
  const options = scale.options?.map((o) => `${o.value} = ${o.label}`).join('; ');
  const anchors = scale.anchors
    ? `${scale.min} = ${scale.anchors.min}; ${scale.max} = ${scale.anchors.max}`
    : '';
  return options || anchors || `${scale.min} to ${scale.max}`;
}

const schemaCache = new WeakMap<InstrumentDefinition, z.ZodType>();

/**
 * The zod schema of one administration of an instrument, `{ id?, responses: [...], supplementary? }`, derived
 * from its definition. Prefer {@link safeScoreResponse} for validation with scoring; use this schema where a
 * zod schema is needed (API bodies, forms, JSON Schema).
 */
export function responseSchema(definition: InstrumentDefinition): z.ZodType {
  const cached = schemaCache.get(definition);
  if (cached) return cached;
  const items = definition.items.map((item, i) => {
    const scale = itemScale(definition, i);
    return z
      .int()
      .min(scale.min)
      .max(scale.max)
      .nullable()
      .meta({
        title: `Item ${i + 1} (${item.id})`,
        description: `${item.text ? `${item.text}. ` : ''}Answer: ${scaleDescription(scale)}; null if unanswered.${item.loinc ? ` LOINC ${item.loinc}.` : ''}`,
      });
  });
  const supplementaryShape: Record<string, z.ZodType> = {};
  for (const q of definition.supplementary ?? []) {
    supplementaryShape[q.id] = z
      .int()
      .min(q.scale.min)
      .max(q.scale.max)
      .nullable()
      .optional()
      .meta({
        description: `${q.text ? `${q.text} ` : ''}Not scored. Answer: ${scaleDescription(q.scale)}.${q.loinc ? ` LOINC ${q.loinc}.` : ''}`,
      });
  }
  const schema = z
    .looseObject({
      id: z
        .string()
        .optional()
        .meta({ description: 'Optional caller-supplied record id, echoed in results.' }),
      responses: z.tuple(items as unknown as [z.ZodType, ...z.ZodType[]]).meta({
        description: `${definition.items.length} answers in item order; null for an unanswered item.`,
      }),
      supplementary: z.strictObject(supplementaryShape).nullable().optional(),
    })
    .meta({
      title: `${definition.name} response`,
      description: `One administration of the ${definition.title} (${definition.construct.toLowerCase()}, recall: ${definition.recall}).`,
    });
  schemaCache.set(definition, schema);
  return schema;
}

/** Stable `$id` of the response JSON Schema of an instrument. */
function responseSchemaId(definition: InstrumentDefinition, target: JsonSchemaTarget): string {
  return `urn:kapkit:schema:${target}:instrument-response:${definition.id}:v${definition.version}`;
}

/**
 * The JSON Schema of one administration of an instrument, generated with zod 4's `z.toJSONSchema()`.
 *
 * @example
 * ```ts
 * const schema = toJsonSchema(phq9, { target: 'draft-07' });
 * new Ajv().compile(schema)({ responses: [0, 1, 2, 3, 0, 1, 2, 3, 0] }); // true
 * ```
 */
export function toJsonSchema(
  definition: InstrumentDefinition,
  options: { target?: JsonSchemaTarget } = {},
): Record<string, unknown> {
  const target = options.target ?? 'draft-2020-12';
  const generated = z.toJSONSchema(responseSchema(definition), { target }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: responseSchemaId(definition, target), ...rest };
}
