import { builtinInstruments } from '@kapkit/core/instruments';
import * as z from 'zod';

/**
 * zod schemas of the public records that @kapkit/core and @kapkit/analytics describe only as TypeScript
 * types: a scored assessment (`scoreResponse`), a line of `kapkit score`, and the analytics report
 * (`analyzeOutcomes`, `kapkit analyze --json`). The tests check real outputs against their JSON Schemas, and
 * the types against the TypeScript interfaces, so they cannot drift apart silently.
 */

const instrumentIds = builtinInstruments.map((d) => d.id).join(', ');
const scoreStatus = z.enum(['complete', 'prorated', 'not-scorable']).meta({
  description:
    'complete: every item answered; prorated: items missing within the instrument’s missing-item rule (total prorated); not-scorable: too many missing.',
});
const nullableNumber = z.number().nullable();

const safetyFlag = z
  .strictObject({
    rule: z.string().meta({ description: 'Safety rule id, e.g. phq9-item9-positive.' }),
    kind: z.enum(['positive', 'unanswered']).meta({
      description:
        'positive: the item met the rule; unanswered: the item was left blank and the rule flags that.',
    }),
    instrument: z.string(),
    item: z.int().min(1).meta({ description: '1-based item number.' }),
    itemId: z.string(),
    value: nullableNumber.meta({ description: 'The answer; null when unanswered.' }),
    message: z.string().meta({ description: 'What to do, for the clinician.' }),
    source: z.string().meta({ description: 'Where the rule comes from.' }),
  })
  .meta({ description: 'A safety flag raised by one item’s answer, whatever the total.' });

/** A scored administration of an instrument (`scoreResponse` of @kapkit/core). */
export const scoredAssessmentSchema = z
  .strictObject({
    instrument: z.string().meta({ description: `Canonical instrument id (built-in: ${instrumentIds}).` }),
    status: scoreStatus,
    reason: z
      .string()
      .nullable()
      .meta({ description: 'Why the total is prorated or not scorable; null when complete.' }),
    total: nullableNumber.meta({
      description: 'Exact total in points (a prorated total is not rounded); null when not scorable.',
    }),
    answered: z.int().min(0).meta({ description: 'Items answered.' }),
    missingItems: z.array(z.int().min(1)).meta({ description: '1-based numbers of unanswered items.' }),
    severity: z
      .string()
      .nullable()
      .meta({ description: 'Severity band id; null when not scorable or no bands.' }),
    severityLabel: z.string().nullable(),
    cutoffs: z.array(
      z.strictObject({
        id: z.string(),
        label: z.string(),
        met: z.boolean().nullable().meta({ description: 'null when its score could not be computed.' }),
      }),
    ),
    scores: z
      .record(
        z.string(),
        z.strictObject({
          id: z.string(),
          label: z.string(),
          status: scoreStatus,
          score: nullableNumber,
          reason: z.string().nullable(),
        }),
      )
      .meta({ description: 'Extra scores (subscales, short forms, transformed totals) by id.' }),
    safetyFlags: z.array(safetyFlag),
    supplementary: z.record(z.string(), nullableNumber).meta({
      description: 'Answers to supplementary questions that are not scored (e.g. PHQ-9 question 10).',
    }),
  })
  .meta({
    title: 'kapkit scored assessment',
    description:
      'One administration of an outcome measure, scored by @kapkit/core (scoreResponse): total, status, severity band, cutoffs, extra scores and safety flags. See docs/instruments.md.',
  });

/** One output line of `kapkit score`. */
export const scoreLineSchema = z
  .strictObject({
    id: z.string().nullable().meta({ description: 'The record id given in the input, or null.' }),
    instrument: z.string().meta({ description: 'Canonical instrument id.' }),
    status: z.enum(['complete', 'prorated', 'not-scorable', 'invalid']),
    total: nullableNumber.meta({ description: 'Exact total in points; null when not scorable or invalid.' }),
    severity: z.string().nullable(),
    safetyFlags: z.array(safetyFlag.pick({ rule: true, kind: true, item: true, value: true, message: true })),
    reason: z.string().optional(),
    errors: z
      .array(
        z.strictObject({
          line: z.int().min(1),
          path: z.string(),
          code: z.string(),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'Why the line is invalid (line number, field, reason).' }),
  })
  .meta({
    title: 'kapkit score output line',
    description: 'One NDJSON line written by `kapkit score`, one per input line, in order.',
  });

// ---------------------------------------------------------------------------------------------------------
// The analytics report (@kapkit/analytics analyzeOutcomes; kapkit analyze --json)

const proportion = z
  .strictObject({
    count: z.int().min(0),
    of: z.int().min(0),
    rate: nullableNumber.meta({ description: 'count / of; null when of is 0.' }),
    lower: nullableNumber.meta({ description: 'Wilson 95% interval, lower bound.' }),
    upper: nullableNumber.meta({ description: 'Wilson 95% interval, upper bound.' }),
  })
  .meta({ description: 'A count with its Wilson score 95% interval (as R prop.test(correct = FALSE)).' });

const meanIntervalShape = {
  n: z.int().min(0),
  mean: nullableNumber,
  sd: nullableNumber,
  lower: nullableNumber.meta({ description: 't-based 95% CI, lower bound; null when n < 2.' }),
  upper: nullableNumber.meta({ description: 't-based 95% CI, upper bound; null when n < 2.' }),
};
const meanInterval = z.strictObject(meanIntervalShape);
const correlation = z.strictObject({ n: z.int().min(0), r: nullableNumber });
const direction = z.enum(['higher-is-worse', 'higher-is-better']);
const medicationGroup = z
  .strictObject({
    patients: z.int().min(0),
    responders: z.int().min(0),
    responseRate: proportion,
    remitters: z.int().min(0),
    remissionRate: proportion.nullable(),
    change: meanInterval,
  })
  .meta({
    description: 'Evaluable patients of one group: responders, remitters (Wilson 95%) and change (t 95%).',
  });

const patientOutcome = z.strictObject({
  patientId: z.string(),
  instrument: z.string(),
  assessments: z.int().min(0),
  baselineDay: z.number(),
  baseline: z.number(),
  evaluable: z.boolean(),
  latestDay: nullableNumber,
  latest: nullableNumber,
  change: nullableNumber,
  percentChange: nullableNumber,
  improvement: nullableNumber,
  response: z.boolean().nullable(),
  firstResponseDay: nullableNumber,
  followUpDays: nullableNumber,
  remission: z.boolean().nullable(),
  trend: z.strictObject({
    n: z.int().min(0),
    intercept: nullableNumber,
    slope: nullableNumber,
    slopeSE: nullableNumber,
  }),
});

const instrumentReport = z.strictObject({
  instrument: z.string(),
  name: z.string(),
  direction,
  patients: z.int().min(0).meta({ description: 'Patients with at least one assessment.' }),
  evaluable: z.int().min(0).meta({ description: 'Patients with a follow-up after baseline.' }),
  baseline: z.strictObject({ mean: nullableNumber, sd: nullableNumber }),
  latest: z.strictObject({ mean: nullableNumber, sd: nullableNumber }),
  change: meanInterval.meta({ description: 'Mean change (latest − baseline) with its t 95% CI.' }),
  responders: z.int().min(0),
  responseRate: proportion.extend({ definition: z.string() }),
  remitters: z.int().min(0),
  remissionRate: proportion.extend({ definition: z.string() }).nullable(),
  reliableChange: z.strictObject({
    method: z.literal('jacobson-truax'),
    reliability: nullableNumber,
    reliabilitySource: z.string(),
    sd: nullableNumber,
    sdSource: z.enum(['sample', 'user']),
    sdiff: nullableNumber,
    critical: z.number().positive(),
    criticalSource: z.string(),
    pointsNeeded: nullableNumber,
    improved: z.int().min(0),
    deteriorated: z.int().min(0),
    improvedRate: proportion,
    deterioratedRate: proportion,
    fixedPoint: z
      .strictObject({
        points: z.number(),
        source: z.string(),
        improved: z.int().min(0),
        deteriorated: z.int().min(0),
      })
      .nullable(),
  }),
  clinicalSignificance: z
    .strictObject({
      a: z.number(),
      b: nullableNumber,
      c: nullableNumber,
      normsSource: z.string().nullable(),
      recovered: z.int().min(0),
      recoveredRate: proportion,
    })
    .nullable(),
  effectSize: z.strictObject({
    n: z.int().min(0),
    dz: nullableNumber,
    dav: nullableNumber,
    gav: nullableNumber,
    label: z.string(),
  }),
  slopes: z.strictObject({ n: z.int().min(0), mean: nullableNumber, sd: nullableNumber }),
  timeToResponse: z.strictObject({
    n: z.int().min(0),
    events: z.int().min(0),
    median: nullableNumber,
    lower: nullableNumber,
    upper: nullableNumber,
    curve: z.array(
      z.strictObject({
        time: z.number(),
        nRisk: z.int().min(0),
        nEvent: z.int().min(0),
        nCensor: z.int().min(0),
        survival: z.number().min(0).max(1),
        lower: nullableNumber,
        upper: nullableNumber,
      }),
    ),
  }),
  trajectory: z.array(meanInterval.extend({ bin: z.number(), upperEdge: nullableNumber })),
  mixedModel: z
    .strictObject({
      intercept: z.number(),
      slope: z.number(),
      interceptSE: z.number(),
      slopeSE: z.number(),
      sdIntercept: z.number(),
      sdSlope: z.number(),
      corr: nullableNumber,
      sdResidual: z.number(),
      remlCriterion: z.number(),
      nObs: z.int().min(0),
      nGroups: z.int().min(0),
      converged: z.boolean(),
    })
    .nullable()
    .meta({ description: 'Linear mixed model score ~ day + (day | patient) by REML; null when not fitted.' }),
  mixedModelNote: z.string().nullable(),
  kap: z
    .strictObject({
      bySinceLastDose: z.array(meanInterval.extend({ bin: z.number(), upperEdge: nullableNumber })),
      byDoseNumber: z.array(meanInterval.extend({ doseNumber: z.int().min(0) })),
      criticalPeriods: z.strictObject({
        inside: meanInterval,
        outside: meanInterval,
        pairedDifference: meanInterval,
      }),
      coursesVsOutcome: z.strictObject({
        coverageVsImprovement: correlation,
        longestChainVsImprovement: correlation,
      }),
    })
    .nullable()
    .meta({ description: 'KAP-specific views (by days since last dose, dose number, critical periods).' }),
  byMedicationClass: z
    .strictObject({
      note: z.string().meta({ description: 'Says that the comparison is observational.' }),
      patientsWithReview: z.int().min(0),
      patientsWithoutReview: z.int().min(0),
      classes: z.array(
        z.strictObject({
          class: z.string(),
          with: medicationGroup,
          without: medicationGroup,
          changeDifference: z
            .strictObject({
              estimate: nullableNumber,
              lower: nullableNumber,
              upper: nullableNumber,
              df: nullableNumber,
            })
            .meta({ description: 'Mean change with − without, Welch 95% interval (as R t.test(x, y)).' }),
        }),
      ),
    })
    .nullable()
    .meta({
      description:
        'Responders, remitters and change with and without each concurrent-medication class (observational); null without medication reviews.',
    }),
  patientRows: z.array(patientOutcome).optional(),
});

/** The analytics report: `analyzeOutcomes` of @kapkit/analytics, as printed by `kapkit analyze --json`. */
export const analysisReportSchema = z
  .strictObject({
    kapkitVersion: z.string().optional().meta({ description: 'Added by kapkit analyze --json.' }),
    input: z
      .strictObject({
        file: z.string(),
        format: z.enum(['csv', 'events-ndjson']),
        records: z.int().min(0),
        excluded: z.int().min(0),
        lines: z.int().min(0).optional().meta({ description: 'Event logs: non-blank lines read.' }),
        events: z.int().min(0).optional().meta({ description: 'Event logs: lines that parsed as events.' }),
        accepted: z.int().min(0).optional().meta({ description: 'Event logs: events the machine accepted.' }),
        refused: z.int().min(0).optional().meta({ description: 'Event logs: events the machine refused.' }),
        malformed: z.int().min(0).optional().meta({ description: 'Event logs: lines that are not events.' }),
        voided: z.int().min(0).optional().meta({ description: 'Event logs: accepted events later voided.' }),
        excludedByReason: z
          .record(z.string(), z.int().min(0))
          .optional()
          .meta({ description: 'Event logs: excluded lines by refusal code (and voided).' }),
        episodes: z.int().min(0).optional().meta({ description: 'Event logs: episodes read.' }),
      })
      .optional()
      .meta({ description: 'Added by kapkit analyze --json: what was read.' }),
    records: z.int().min(0).meta({ description: 'Outcome records analysed.' }),
    instruments: z
      .record(z.string(), instrumentReport)
      .meta({ description: 'One report per instrument id.' }),
    notes: z.array(z.string()),
  })
  .meta({
    title: 'kapkit analysis report',
    description:
      'Outcome analytics per instrument (@kapkit/analytics analyzeOutcomes, kapkit analyze --json): response, remission, reliable and clinically significant change, effect sizes, Kaplan–Meier time to response, trajectory, linear mixed model and KAP views. Methods and sources: docs/methods.md.',
  });
