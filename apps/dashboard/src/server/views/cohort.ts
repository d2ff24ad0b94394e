/** The cohort page's numbers: `analyzeOutcomes` over every episode, reduced to what the page shows. */

import { type AnalysisReport, analyzeOutcomes, recordsFromEpisodes } from '@kapkit/analytics';
import type { EpisodeContext } from '@kapkit/core';
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import type { CohortInstrument } from '../../shared/api.js';

/** Weeks per day, for slopes shown per week. */
const DAYS_PER_WEEK = 7;

/** The cohort page: analyzeOutcomes over every episode, reduced to what the page shows. */
export function cohortInstruments(
  contexts: readonly EpisodeContext[],
  registry: InstrumentRegistry,
): { report: AnalysisReport; instruments: CohortInstrument[] } {
  const { records, courses } = recordsFromEpisodes(contexts);
  const report = analyzeOutcomes(records, { courses, registry });
  const instruments: CohortInstrument[] = Object.values(report.instruments)
    .filter((r) => registry.find(r.instrument)?.purpose !== 'session')
    .map((r) => {
      return {
        instrument: r.instrument,
        name: r.name,
        patients: r.patients,
        evaluable: r.evaluable,
        baseline: r.baseline,
        latest: r.latest,
        change: { n: r.change.n, mean: r.change.mean, lower: r.change.lower, upper: r.change.upper },
        response: { ...r.responseRate },
        remission: r.remissionRate ? { ...r.remissionRate } : null,
        reliableImprovement: {
          count: r.reliableChange.improvedRate.count,
          of: r.reliableChange.improvedRate.of,
          rate: r.reliableChange.improvedRate.rate,
          pointsNeeded: r.reliableChange.pointsNeeded,
          critical: r.reliableChange.critical,
        },
        reliableDeterioration: {
          count: r.reliableChange.deterioratedRate.count,
          of: r.reliableChange.deterioratedRate.of,
          rate: r.reliableChange.deterioratedRate.rate,
        },
        effectSize: {
          label: r.effectSize.label,
          n: r.effectSize.n,
          dz: r.effectSize.dz,
          gav: r.effectSize.gav,
        },
        mixedModel: r.mixedModel
          ? {
              slopePerWeek: r.mixedModel.slope * DAYS_PER_WEEK,
              slopePerWeekSE: r.mixedModel.slopeSE * DAYS_PER_WEEK,
              converged: r.mixedModel.converged,
            }
          : null,
        trajectory: r.trajectory,
        timeToResponse: r.timeToResponse,
      };
    });
  return { report, instruments };
}
