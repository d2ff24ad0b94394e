import type { InstrumentRegistry } from '../instruments/registry.js';
import { type DosingSessionRecord, dosedSessions, type EpisodeContext, vitalSignNames } from './context.js';
import { type CriticalPeriodAnalysis, DAY_MS } from './critical-periods.js';
import { parseInstant } from './event-time.js';
import { readingText } from './rules.js';

import type { EpisodeAlert, OutcomeProgress } from './status.js';

/*
 * The alerts of `statusAt` about safety (flags, adverse events, late entries), vital signs, outcomes that are
 * not on track and the critical-period chain.
 */

/** Doses that went ahead before a signal dated earlier was recorded: late entries that would have refused them. */
function lateEntryDoses(dosed: readonly DosingSessionRecord[], signal: { at: string; recordedAt: string }) {
  const atMs = parseInstant(signal.at);
  const recMs = parseInstant(signal.recordedAt);
  return dosed.flatMap((s) =>
    s.doses
      .filter((d) => parseInstant(d.at) > atMs && parseInstant(d.recordedAt) < recMs)
      .map((d) => ({ s, d })),
  );
}

/** Outcomes not on track: no response after the expected doses, reliable deterioration, the most severe band. */
export function notOnTrackAlerts(
  c: EpisodeContext,
  outcomes: readonly OutcomeProgress[],
  dosesGiven: number,
  registry: InstrumentRegistry,
): EpisodeAlert[] {
  const alerts: EpisodeAlert[] = [];
  const nth = dosedSessions(c)[c.policy.noResponseAfterDoses - 1]?.doses[0]?.at;
  for (const o of outcomes) {
    const name = registry.find(o.instrument)?.name ?? o.instrument.toUpperCase();
    if (!o.baseline || !o.latest) continue;
    if (
      nth !== undefined &&
      dosesGiven >= c.policy.noResponseAfterDoses &&
      parseInstant(o.latest.at) >= parseInstant(nth) &&
      o.response === false
    ) {
      alerts.push({
        code: 'no-response',
        severity: 'warning',
        message: `${name} ${o.baseline.total} → ${o.latest.total}: no response after ${dosesGiven} dose(s) (policy: by dose ${c.policy.noResponseAfterDoses}); review the plan.`,
      });
    }
    if (o.reliableDeterioration === true) {
      alerts.push({
        code: 'reliable-deterioration',
        severity: 'warning',
        message: `${name} ${o.baseline.total} → ${o.latest.total} on ${o.latest.at.slice(0, 10)}: reliably worse than baseline.`,
      });
    }
    if (o.mostSevereBand) {
      alerts.push({
        code: 'severe-symptoms',
        severity: 'warning',
        message: `${name} ${o.latest.total} on ${o.latest.at.slice(0, 10)} is in the most severe band (${o.latest.severity}).`,
      });
    }
  }
  return alerts;
}

/** Safety flags and adverse events awaiting review, and doses that went ahead before a late safety entry. */
export function safetyAlerts(c: EpisodeContext, dosed: readonly DosingSessionRecord[]): EpisodeAlert[] {
  const alerts: EpisodeAlert[] = [];
  for (const f of c.safetyFlags) {
    if (f.reviewed !== null) continue;
    const who = f.patientReported ? ' (patient-reported)' : '';
    if (f.kind === 'positive') {
      alerts.push({
        code: 'safety-flag',
        severity: 'urgent',
        message: `${f.instrument.toUpperCase()} item ${f.item} answered ${f.value} on ${f.at.slice(0, 10)}${who}: ${f.message}`,
      });
      for (const { s, d } of lateEntryDoses(dosed, f)) {
        alerts.push({
          code: 'late-entry',
          severity: 'urgent',
          message: `${f.instrument.toUpperCase()} item ${f.item} = ${f.value} dated ${f.at.slice(0, 10)} was entered on ${f.recordedAt.slice(0, 10)}, after the dose of session "${s.sessionId}" (${d.at.slice(0, 10)}) went ahead; had it been known, the dose would have waited for a safety review.`,
        });
      }
    } else {
      alerts.push({
        code: 'safety-item-unanswered',
        severity: 'warning',
        message: `${f.instrument.toUpperCase()} item ${f.item} was left unanswered on ${f.at.slice(0, 10)}${who}; ask it again or assess risk directly.`,
      });
    }
  }
  for (const a of c.adverseEvents) {
    if (a.reviewed !== null || (!a.needsReview && a.severity !== 'moderate')) continue;
    const where = a.unknownSession
      ? ` The report names session "${a.sessionId}", which this episode does not know: check the record.`
      : '';
    alerts.push({
      code: 'adverse-event',
      severity: a.needsReview ? 'urgent' : 'warning',
      message: `${a.severity} adverse event "${a.code}" on ${a.at.slice(0, 10)}${a.recordedBy === 'patient' ? ' (patient-reported)' : ''}, not yet reviewed by a clinician.${where}`,
    });
    if (a.needsReview) {
      for (const { s, d } of lateEntryDoses(dosed, a)) {
        alerts.push({
          code: 'late-entry',
          severity: 'urgent',
          message: `${a.severity} adverse event "${a.code}" dated ${a.at.slice(0, 10)} was entered on ${a.recordedAt.slice(0, 10)}, after the dose of session "${s.sessionId}" (${d.at.slice(0, 10)}) went ahead; had it been known, the dose would have waited for a review.`,
        });
      }
    }
  }
  // A withdrawal of consent entered after a dose it would have refused went ahead: consent to KAP (any dose),
  // consent to remote sessions (a dose in a telehealth session).
  for (const w of c.withdrawals) {
    const kap = w.scope.includes('kap');
    if (!kap && !w.scope.includes('remote-sessions')) continue;
    for (const { s, d } of lateEntryDoses(dosed, w)) {
      if (!kap && s.mode !== 'telehealth') continue;
      alerts.push({
        code: 'late-entry',
        severity: 'urgent',
        message: `A withdrawal of consent to ${kap ? 'KAP' : 'remote sessions'} dated ${w.at.slice(0, 10)} was entered on ${w.recordedAt.slice(0, 10)}, after the dose of session "${s.sessionId}" (${d.at.slice(0, 10)}) went ahead; had it been known, the dose would have been refused.`,
      });
    }
  }
  const stop = c.treatmentStopped;
  if (stop) {
    // A closed course needs no notice that treatment is stopped (a late entry still says what it changed).
    if (c.closed === null)
      alerts.push({
        code: 'treatment-stopped',
        severity: 'warning',
        message: `Treatment stopped by the medical team on ${stop.at.slice(0, 10)} (${stop.by === 'follow-up' ? 'follow-up: do not continue' : 're-evaluation: not eligible'}); no doses, refills or new sessions until a new evaluation, prescription or follow-up that continues.`,
      });
    for (const { s, d } of lateEntryDoses(dosed, stop)) {
      alerts.push({
        code: 'late-entry',
        severity: 'urgent',
        message: `The medical decision to stop treatment dated ${stop.at.slice(0, 10)} was entered on ${stop.recordedAt.slice(0, 10)}, after the dose of session "${s.sessionId}" (${d.at.slice(0, 10)}) went ahead.`,
      });
    }
  }
  return alerts;
}

/** Readings beyond the alert thresholds in the latest dosing session with vitals. */
export function vitalsAlerts(c: EpisodeContext): EpisodeAlert[] {
  // The latest dosing session that has vitals (in progress or ended): its alarming readings stand until the next.
  const latest = [...c.sessions]
    .filter((s) => s.preVitals.length > 0 || s.otherVitals.length > 0)
    .sort((a, b) => {
      const at = (s: DosingSessionRecord) => parseInstant((s.preVitals[0] ?? s.otherVitals[0])!.at);
      return at(a) - at(b);
    })
    .pop();
  if (!latest) return [];
  const readings = [...latest.preVitals.map((v) => ({ ...v, phase: 'pre' as const })), ...latest.otherVitals];
  return readings
    .filter((v) => v.alertSigns.length > 0)
    .map((v) => ({
      code: 'vitals-alert' as const,
      severity: 'urgent' as const,
      message: `${v.phase}-dose reading in session "${latest.sessionId}" on ${v.at.slice(0, 10)}: ${readingText(v)}; ${v.alertSigns.map((x) => vitalSignNames[x]).join(', ')} beyond the alert threshold (BP ${c.policy.alertSystolicAbove}/${c.policy.alertDiastolicAbove} mmHg, heart rate ${c.policy.alertHeartRateAbove}/min, SpO₂ ${c.policy.alertSpo2Below} %).`,
    }));
}

/** Alerts about the critical-period chain: about to break, or broken. */
export function chainAlerts(
  c: EpisodeContext,
  deadline: NonNullable<CriticalPeriodAnalysis['nextDoseDeadline']>,
  asOfMs: number,
  dosedCount: number,
): EpisodeAlert[] {
  const alerts: EpisodeAlert[] = [];
  const left = deadline.beforeMs - asOfMs;
  if (left > 0 && left <= c.policy.chainWarningDays * DAY_MS) {
    alerts.push({
      code: 'critical-period-chain-ending',
      severity: 'warning',
      message: `The critical-period chain breaks unless the next dose is given by ${deadline.latestDay}.`,
    });
  } else if (left <= 0 && dosedCount > 0) {
    alerts.push({
      code: 'critical-period-chain-broken',
      severity: 'info',
      message: `No dose since the last critical period closed on ${deadline.before.slice(0, 10)}; the next dose starts a new chain.`,
    });
  }
  return alerts;
}
