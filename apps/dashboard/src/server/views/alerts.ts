/**
 * Alerts as the dashboard lists them: most severe first, with the safety signals the store kept from refused
 * submissions. The views (`src/server/views/`) are pure projections from episode state (and its events) to
 * what the dashboard shows; the routes load the data from the store and hand it here.
 */

import type { StoredSafetySignal } from '@kapkit/store';
import type { Alert } from '../../shared/api.js';

/** How urgent an alert severity is: lower sorts first. */
export const SEVERITY_RANK: Record<string, number> = { urgent: 0, warning: 1, info: 2 };

/** Alerts, most severe first (stable within a severity). */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((a, i) => [a, i] as const)
    .sort((x, y) => (SEVERITY_RANK[x[0].severity] ?? 3) - (SEVERITY_RANK[y[0].severity] ?? 3) || x[1] - y[1])
    .map(([a]) => ({ code: a.code, severity: a.severity, message: a.message }));
}

/**
 * Urgent alerts for the safety signals the store kept from refused submissions (a positive item 9 in a record
 * that could not be stored, …) that no clinician has reviewed yet.
 */
export function signalAlerts(signals: readonly StoredSafetySignal[]): Alert[] {
  return signals
    .filter((s) => s.review === null)
    .map((s) => ({
      code: 'safety-signal-refused',
      severity: 'urgent' as const,
      message: `A ${s.eventType ?? 'record'}${s.recordedBy === 'patient' ? ' (patient-reported)' : ''}${s.eventAt ? ` of ${s.eventAt.slice(0, 10)}` : ''} was refused (${s.refusalCode}) but carried ${s.signals.map((f) => `${f.rule} (${f.value})`).join(', ')}: the signal is kept until a clinician reviews it.`,
    }));
}
