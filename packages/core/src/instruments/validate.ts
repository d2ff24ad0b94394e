import { describeValue, type ValidationIssue } from '../errors.js';
import { type InstrumentDefinition, itemScale, type ResponseScale } from './definition.js';

function scaleWords(scale: ResponseScale): string {
  return `an integer from ${scale.min} to ${scale.max}, or null if unanswered`;
}

function checkValue(
  value: unknown,
  scale: ResponseScale,
  path: (string | number)[],
  label: string,
  out: ValidationIssue[],
): void {
  if (value === null) return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= scale.min && value <= scale.max)
    return;
  const expected = scaleWords(scale);
  if (typeof value !== 'number' || Number.isNaN(value)) {
    out.push({
      path,
      code: 'invalid-type',
      expected,
      received: describeValue(value),
      message: `${label}: expected ${expected}, got ${describeValue(value)}`,
    });
  } else if (!Number.isInteger(value)) {
    out.push({
      path,
      code: 'not-integer',
      expected,
      received: String(value),
      message: `${label}: expected ${expected}, got ${value} (not an integer)`,
    });
  } else if (value < scale.min || value > scale.max) {
    out.push({
      path,
      code: 'out-of-range',
      expected,
      received: String(value),
      message: `${label}: expected ${expected}, got ${value} (out of range)`,
    });
  }
}

/**
 * Check a response object (`{ responses: [...], supplementary?: {...} }`) against an instrument and list
 * every problem, each naming the field (item number and id) and what was expected. Returns `[]` when valid.
 */
export function validateResponse(definition: InstrumentDefinition, input: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const n = definition.items.length;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    out.push({
      path: [],
      code: 'invalid-type',
      expected: 'an object with a "responses" array',
      received: describeValue(input),
      message: `expected an object with a "responses" array, got ${describeValue(input)}`,
    });
    return out;
  }
  const record = input as Record<string, unknown>;
  if (record.id !== undefined && typeof record.id !== 'string') {
    out.push({
      path: ['id'],
      code: 'invalid-type',
      expected: 'a string',
      received: describeValue(record.id),
      message: `id: expected a string, got ${describeValue(record.id)}`,
    });
  }
  const responses = record.responses;
  if (responses === undefined) {
    out.push({
      path: ['responses'],
      code: 'missing-field',
      expected: `an array of ${n} answers`,
      received: 'nothing',
      message: `responses: missing; expected an array of ${n} answers (null for unanswered)`,
    });
  } else if (!Array.isArray(responses)) {
    out.push({
      path: ['responses'],
      code: 'invalid-type',
      expected: `an array of ${n} answers`,
      received: describeValue(responses),
      message: `responses: expected an array of ${n} answers, got ${describeValue(responses)}`,
    });
  } else {
    if (responses.length !== n) {
      out.push({
        path: ['responses'],
        code: 'wrong-length',
        expected: `exactly ${n} answers`,
        received: `${responses.length}`,
        message: `responses: ${definition.name} has ${n} items, got ${responses.length} answers (use null for an unanswered item)`,
      });
    }
    const count = Math.min(responses.length, n);
    for (let i = 0; i < count; i++) {
      const item = definition.items[i]!;
      checkValue(
        responses[i],
        itemScale(definition, i),
        ['responses', i],
        `responses[${i}] (item ${i + 1}, ${item.id})`,
        out,
      );
    }
  }
  const supplementary = record.supplementary;
  if (supplementary !== undefined && supplementary !== null) {
    if (typeof supplementary !== 'object' || Array.isArray(supplementary)) {
      out.push({
        path: ['supplementary'],
        code: 'invalid-type',
        expected: 'an object of answers by question id',
        received: describeValue(supplementary),
        message: `supplementary: expected an object of answers by question id, got ${describeValue(supplementary)}`,
      });
    } else {
      const questions = definition.supplementary ?? [];
      for (const [key, value] of Object.entries(supplementary)) {
        const question = questions.find((q) => q.id === key);
        if (!question) {
          const known = questions.map((q) => q.id);
          out.push({
            path: ['supplementary', key],
            code: 'unknown-field',
            expected: known.length ? `one of ${known.join(', ')}` : 'no supplementary questions',
            received: key,
            message: `supplementary.${key}: ${definition.name} has no supplementary question "${key}"${known.length ? ` (known: ${known.join(', ')})` : ''}`,
          });
        } else {
          checkValue(value, question.scale, ['supplementary', key], `supplementary.${key}`, out);
        }
      }
    }
  }
  return out;
}
