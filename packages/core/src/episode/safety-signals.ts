import type { InstrumentRegistry } from '../instruments/registry.js';
import { safetyFlagsOf } from '../instruments/scoring.js';
import { adverseEventNeedsReview, vitalSignNames, vitalSignsBeyond } from './context.js';
import type { EpisodePolicy } from './policy.js';

import type { SafetySignal } from './refusals.js';

/**
 * Safety signals an event carries, read from the raw input so that they survive any refusal (schema errors
 * included): the instrument's safety rules for assessments, adverse events that are severe, serious or
 * suicidal ideation, and vitals beyond the alert thresholds of `policy`.
 */
export function safetySignalsOf(
  input: unknown,
  registry: InstrumentRegistry,
  policy: EpisodePolicy,
): SafetySignal[] {
  if (typeof input !== 'object' || input === null) return [];
  const r = input as Record<string, unknown>;
  if (r.type === 'AssessmentRecorded' && typeof r.instrument === 'string') {
    const definition = registry.find(r.instrument);
    if (!definition) return [];
    return safetyFlagsOf(definition, r.responses).map((f) => ({ ...f, origin: 'assessment' as const }));
  }
  if (r.type === 'AdverseEventReported' && typeof r.severity === 'string' && typeof r.code === 'string') {
    if (!adverseEventNeedsReview(r.code, r.severity)) return [];
    const rule =
      r.code === 'suicidal-ideation' ? 'adverse-event-suicidal-ideation' : `adverse-event-${r.severity}`;
    return [
      {
        rule,
        kind: 'positive',
        value: r.code === 'suicidal-ideation' ? r.code : r.severity,
        message: `${r.severity} adverse event "${r.code}": a clinician reviews it before the next dose.`,
        origin: 'adverse-event',
      },
    ];
  }
  if (r.type === 'VitalsRecorded' && typeof r.systolic === 'number' && typeof r.diastolic === 'number') {
    const reading = {
      systolic: r.systolic,
      diastolic: r.diastolic,
      ...(typeof r.heartRate === 'number' ? { heartRate: r.heartRate } : {}),
      ...(typeof r.spo2 === 'number' ? { spo2: r.spo2 } : {}),
    };
    return vitalSignsBeyond(reading, policy, 'alert').map((sign) => ({
      rule: `vitals-${sign}-alert`,
      kind: 'positive' as const,
      value:
        sign === 'systolic'
          ? reading.systolic
          : sign === 'diastolic'
            ? reading.diastolic
            : sign === 'heart-rate'
              ? (reading.heartRate ?? null)
              : (reading.spo2 ?? null),
      message: `${vitalSignNames[sign]} beyond the alert threshold.`,
      origin: 'vitals' as const,
    }));
  }
  return [];
}

/** A sentence naming the positive signals of a refused event, appended to its refusal message. */
export function safetyText(signals: readonly SafetySignal[]): string {
  const positive = signals.filter((f) => f.kind === 'positive');
  if (positive.length === 0) return '';
  return ` — SAFETY: ${positive
    .map((f) => (f.item !== undefined ? `${f.rule} (item ${f.item} = ${f.value})` : `${f.rule} (${f.value})`))
    .join(', ')} in the refused record; act on it`;
}
