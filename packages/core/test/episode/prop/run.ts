import { expect } from 'vitest';
import { decide, type EpisodeState, initialEpisodeState } from '../../../src/episode/decide.js';
import { type EpisodeEvent, parseEvent } from '../../../src/episode/events.js';
import { primaryRoleOf } from '../../../src/episode/permissions.js';
import { defaultPolicy } from '../../../src/episode/policy.js';
import { refusalCodes } from '../../../src/episode/rules.js';
import { normalizeInstrumentId } from '../../../src/instruments/registry.js';
import { clinicalOrder, type Happenings, inForceOf, noHappenings, type SessionFacts } from './facts.js';
import { Ledger } from './ledger.js';
import { type FoldState, materialize, voidedIds } from './materialize.js';
import { type Command, MINUTE, T0 } from './payloads.js';
import { registry } from './record.js';

// Folding commands with decide against the ledger, and what the context and the status must then say.

export interface Run {
  readonly fold: FoldState;
  readonly ledger: Ledger;
  readonly happened: Happenings;
  /** Refusal codes, in order. */
  readonly refusals: string[];
}

/** The safety signals an input carries, read off the raw input (assessments, adverse events, vitals). */
function signalsOf(input: unknown): string[] {
  const r = input as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) return [];
  if (r.type === 'AssessmentRecorded' && typeof r.instrument === 'string' && Array.isArray(r.responses)) {
    if (normalizeInstrumentId(r.instrument) !== 'phq9' || r.responses.length !== 9) return [];
    const item9 = r.responses[8];
    return item9 === null || (typeof item9 === 'number' && [1, 2, 3].includes(item9))
      ? ['phq9-item9-positive']
      : [];
  }
  if (r.type === 'AdverseEventReported' && typeof r.code === 'string' && typeof r.severity === 'string') {
    if (r.code === 'suicidal-ideation') return ['adverse-event-suicidal-ideation'];
    return r.severity === 'severe' || r.severity === 'serious' ? [`adverse-event-${r.severity}`] : [];
  }
  if (r.type === 'VitalsRecorded' && typeof r.systolic === 'number' && typeof r.diastolic === 'number') {
    const p = defaultPolicy;
    const out: string[] = [];
    if (r.systolic > p.alertSystolicAbove) out.push('vitals-systolic-alert');
    if (r.diastolic > p.alertDiastolicAbove) out.push('vitals-diastolic-alert');
    if (typeof r.heartRate === 'number' && r.heartRate > p.alertHeartRateAbove)
      out.push('vitals-heart-rate-alert');
    if (typeof r.spo2 === 'number' && r.spo2 < p.alertSpo2Below) out.push('vitals-spo2-alert');
    return out;
  }
  return [];
}

/** Fold commands with decide, checking every decision against the ledger. Throws on a broken invariant. */
export function run(cmds: readonly Command[]): Run {
  const fold: FoldState = { state: initialEpisodeState, clock: T0, accepted: [], acceptedEvents: [] };
  const happened = noHappenings();
  let ledger = new Ledger(happened);
  const refusals: string[] = [];
  /** Every id accepted (voided ones included). */
  const ids = new Set<string>();
  /** The state value an episode was paused in. */
  let pausedAt: EpisodeState['value'] | null = null;
  cmds.forEach((cmd, i) => {
    const input = materialize(cmd, i, fold) as Record<string, unknown>;
    const before = fold.state;
    const d = decide(before, input, { now: fold.clock }); // must never throw
    if (d.ok) {
      const e = d.event;
      const fail = (why: string): never => {
        throw new Error(`accepted ${e.type} ${e.id}: ${why}`);
      };
      // The envelope: a fresh id; no future event; version 1 upcast to recordedAt = at and the primary role.
      if (ids.has(e.id)) fail('an id already accepted (voided ones included)');
      ids.add(e.id);
      const tolerance = defaultPolicy.clockToleranceMinutes * MINUTE;
      if (Date.parse(e.at) > Date.parse(e.recordedAt) + tolerance) fail('dated after it was recorded');
      if (Date.parse(e.at) > fold.clock + tolerance || Date.parse(e.recordedAt) > fold.clock + tolerance)
        fail('in the future of the clock');
      if (input.v === 1) {
        happened.upcast++;
        if (e.v !== 2) fail('not upcast');
        if (input.recordedAt === undefined && e.recordedAt !== input.at) fail('upcast with recordedAt ≠ at');
        if (input.recordedBy === undefined && e.recordedBy !== primaryRoleOf(e.type))
          fail(`upcast with recordedBy ${e.recordedBy}`);
      }
      const late = Date.parse(e.at) < ledger.lastAtMs;
      if (e.type === 'EventVoided') {
        // Only an event in force may be voided, and neither the opening nor a void.
        const target = ledger.events.find((x) => x.id === e.voidedEventId) ?? fail('voids no event in force');
        if (target.type === 'EpisodeOpened' || target.type === 'EventVoided') fail(`voids ${target.type}`);
        if ((target.type === 'EpisodeCompleted' || target.type === 'EpisodeDiscontinued') && ledger.closed)
          happened.reopened++;
        happened.voids++;
      } else if (late) {
        happened.lateEntries++;
      }
      if (e.type === 'EpisodePaused') pausedAt = late ? null : before.value;
      if (e.type === 'EventVoided' || late) {
        // A late entry or a void: the episode is rebuilt from the events in force in clinical order; every one
        // of them must still pass its checks.
        ledger = Ledger.of(inForceOf([...fold.acceptedEvents, e]), noHappenings());
        ledger.happened = happened;
        pausedAt = null;
      } else {
        ledger.check(e);
        ledger.apply(e);
      }
      ledger.checkTotals();
      ledger.checkState(d.state, e, pausedAt);
      fold.state = d.state;
      fold.accepted.push(input);
      fold.acceptedEvents.push(e);
    } else {
      const r = d.refusal;
      refusals.push(r.code);
      if (!Object.hasOwn(refusalCodes, r.code)) throw new Error(`unknown refusal code ${r.code}`);
      if (typeof r.message !== 'string' || r.message.trim() === '')
        throw new Error(`empty refusal message for ${r.code}`);
      if (d.state !== before) throw new Error(`refusal ${r.code} changed the state`);
      if (r.event !== input && r.code === 'invalid-event')
        throw new Error('an invalid-event refusal does not carry the input');
      // No safety signal is lost: whatever the code, the refusal carries the signals of the refused input.
      const carried = (r.safetyFlags ?? []).map((f) => f.rule);
      for (const rule of signalsOf(input))
        if (!carried.includes(rule)) throw new Error(`refusal ${r.code} lost the safety signal ${rule}`);
      if (carried.some((rule) => rule !== 'phq9-item9-positive' && !signalsOf(input).includes(rule)))
        throw new Error(`refusal ${r.code} carries signals the input does not: ${carried}`);
      checkInvalidates(r, input, ledger);
    }
  });
  return { fold, ledger, happened, refusals };
}

/**
 * `out-of-order` is refused to a late entry only, `void-would-invalidate` to a void only, each naming the first
 * later event in force that would no longer be accepted; every event before that one in the rebuilt history
 * passes the ledger's checks (the machine accepted them in its rebuild).
 */
function checkInvalidates(
  r: { code: string; message: string; invalidates?: { eventId: string; code: string; at: string } },
  input: Record<string, unknown>,
  ledger: Ledger,
): void {
  if (r.code !== 'out-of-order' && r.code !== 'void-would-invalidate') {
    if (r.invalidates) throw new Error(`${r.code} names an invalidated event`);
    return;
  }
  const inv =
    r.invalidates ??
    (() => {
      throw new Error(`${r.code} without the event it invalidates`);
    })();
  if (!Object.hasOwn(refusalCodes, inv.code)) throw new Error(`unknown code ${inv.code}`);
  if (!r.message.includes(inv.eventId))
    throw new Error(`${r.code}: the message does not name ${inv.eventId}`);
  const parsed = parseEvent(input).data as EpisodeEvent;
  let rebuilt: EpisodeEvent[];
  if (r.code === 'out-of-order') {
    if (parsed.type === 'EventVoided') throw new Error('out-of-order for a void');
    if (!(Date.parse(parsed.at) < ledger.lastAtMs)) throw new Error('out-of-order for an event in order');
    rebuilt = clinicalOrder([...ledger.events, parsed]);
  } else {
    if (parsed.type !== 'EventVoided') throw new Error('void-would-invalidate for another event than a void');
    const target = ledger.events.findIndex((x) => x.id === parsed.voidedEventId);
    if (target < 0) throw new Error('void-would-invalidate for an event not in force');
    rebuilt = clinicalOrder([...ledger.events.filter((x) => x.id !== parsed.voidedEventId), parsed]);
  }
  const at = rebuilt.findIndex((x) => x.id === inv.eventId && x !== parsed);
  if (at < 0) throw new Error(`${r.code} names ${inv.eventId}, which is not in force`);
  if (r.code === 'out-of-order' && at < rebuilt.indexOf(parsed))
    throw new Error(`out-of-order names ${inv.eventId}, which is before the late entry`);
  Ledger.of(rebuilt.slice(0, at));
}

/** The context agrees with the ledger. */
export function contextMatchesLedger(r: Run) {
  const c = r.fold.state.context;
  const l = r.ledger;
  expect(c.unitsUsed).toBe(l.used);
  expect(c.dosesDelivered).toBe(l.delivered);
  expect(c.dosesAuthorized).toBe(l.authorized);
  // History: the events in force in clinical order; voided ones listed apart.
  expect(c.history.map((e) => e.id)).toEqual(l.events.map((e) => e.id));
  expect(c.history.map((e) => e.id)).toEqual(inForceOf(r.fold.acceptedEvents).map((e) => e.id));
  expect([...c.voidedEventIds].sort()).toEqual([...voidedIds(r.fold.acceptedEvents)].sort());
  expect(c.lastEventMs).toBe(l.events.length === 0 ? null : l.lastAtMs);
  // Booked and not started, or started without a dose: 'scheduled'; dosed: 'dosed'; then how it ended.
  expect(c.sessions.map((s) => [s.sessionId, s.status])).toEqual(
    [...l.sessions].map(([id, s]) => [id, s.ended ?? (s.doses.length > 0 ? 'dosed' : 'scheduled')]),
  );
  // Dose numbers follow the order of the first doses.
  expect(
    c.sessions
      .filter((s) => s.doseNumber !== null)
      .sort((a, b) => a.doseNumber! - b.doseNumber!)
      .map((s) => s.sessionId),
  ).toEqual(l.dosedOrder);
  expect(c.closed?.kind ?? null).toBe(l.closed);
  expect(c.prescription && [c.prescription.route, c.prescription.formulation, c.prescription.doseMg]).toEqual(
    l.prescription && [l.prescription.route, l.prescription.formulation, l.prescription.mg],
  );
  expect(c.treatmentStopped?.eventId ?? null).toBe(l.stopInForce()?.id ?? null);
  expect(c.safetyFlags.map((f) => [f.assessmentEventId, f.kind, f.reviewed !== null])).toEqual(
    [...l.flags.values()].map((f) => [f.id, f.kind, f.reviews.length > 0]),
  );
  expect(
    c.adverseEvents.map((a) => [a.eventId, a.needsReview, a.unknownSession, a.reviewed !== null]),
  ).toEqual([...l.adverse.values()].map((a) => [a.id, a.gates, a.unknownSession, a.reviews.length > 0]));
}

/** The alerts of `statusAt` the ledger expects at `asOfMs` (not before the last event), by code, counted. */
export function expectedAlerts(l: Ledger, asOfMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (code: string, n = 1) => {
    if (n > 0) out[code] = (out[code] ?? 0) + n;
  };
  const doses = l.dosedOrder.flatMap((id) => l.sessions.get(id)!.doses);
  /** Doses that went ahead after the signal's date but were recorded before the signal was. */
  const lateFor = (s: { at: number; recordedAt: number }) =>
    doses.filter((d) => d.at > s.at && d.recordedAt < s.recordedAt).length;
  for (const f of l.flags.values()) {
    if (f.reviews.length > 0) continue;
    if (f.kind === 'positive') {
      add('safety-flag');
      add('late-entry', lateFor(f));
    } else add('safety-item-unanswered');
  }
  for (const a of l.adverse.values()) {
    if (a.reviews.length > 0 || (a.kind !== 'positive' && a.kind !== 'moderate')) continue;
    add('adverse-event');
    if (a.gates) add('late-entry', lateFor(a));
  }
  for (const w of l.withdrawals) {
    if (!w.kap && !w.remote) continue;
    const refused = l.dosedOrder
      .map((id) => l.sessions.get(id)!)
      .filter((s) => w.kap || s.mode === 'telehealth')
      .flatMap((s) => s.doses);
    add('late-entry', refused.filter((d) => d.at > w.at && d.recordedAt < w.recordedAt).length);
  }
  const stop = l.stopInForce();
  if (stop) {
    if (!l.closed) add('treatment-stopped');
    add('late-entry', lateFor(stop));
  }
  // Readings of the latest session that has any (by its first reading) beyond the alert thresholds.
  const withVitals = [...l.sessions.values()].filter((s) => s.readings.length > 0);
  let latest: SessionFacts | undefined;
  for (const s of withVitals) {
    const first = (x: SessionFacts) => (x.readings.find((v) => v.phase === 'pre') ?? x.readings[0]!).at;
    if (!latest || first(s) >= first(latest)) latest = s;
  }
  const p = l.policy;
  add(
    'vitals-alert',
    latest?.readings.filter(
      (v) =>
        v.systolic > p.alertSystolicAbove ||
        v.diastolic > p.alertDiastolicAbove ||
        (v.heartRate ?? 0) > p.alertHeartRateAbove ||
        (v.spo2 ?? 100) < p.alertSpo2Below,
    ).length ?? 0,
  );
  // Vitals hold: the session in progress has no dose yet and its last pre-dose reading is beyond the hold.
  const current = l.current === null ? undefined : l.sessions.get(l.current);
  const lastPre = current?.readings.filter((v) => v.phase === 'pre').pop();
  if (
    current &&
    current.doses.length === 0 &&
    lastPre &&
    (lastPre.systolic > p.holdSystolicAbove ||
      lastPre.diastolic > p.holdDiastolicAbove ||
      (lastPre.heartRate ?? 0) > p.holdHeartRateAbove ||
      (lastPre.spo2 ?? 100) < p.holdSpo2Below)
  )
    add('vitals-hold');
  // The follow-up is monitored while the episode is open, paused included.
  const due = l.followUpDueMs();
  if (l.opened && !l.closed && due !== null && asOfMs > due) add('follow-up-overdue');
  // Not on track (open episodes): baseline = the last scorable score at or before the first dose.
  if (!l.closed) {
    const firstDose = l.firstDoses()[0]?.at ?? null;
    const nth = l.firstDoses()[p.noResponseAfterDoses - 1]?.at;
    for (const id of [...new Set(l.assessments.map((a) => a.instrument))]) {
      const d = registry.get(id);
      if (!d.outcomes?.response) continue;
      const list = l.assessments.filter((a) => a.instrument === id && a.total !== null && a.at <= asOfMs);
      if (list.length === 0) continue;
      const before = firstDose === null ? list : list.filter((a) => a.at <= firstDose);
      const b = before[before.length - 1] ?? list[0]!;
      const latestScore = list[list.length - 1]!;
      const differs = latestScore !== b;
      if (
        differs &&
        nth !== undefined &&
        latestScore.at >= nth &&
        b.total! > 0 &&
        latestScore.total! > d.outcomes.response.fraction * b.total!
      )
        add('no-response');
      if (differs && latestScore.total! - b.total! >= d.change!.fixedPoints!.value)
        add('reliable-deterioration');
      if (latestScore.severity === d.bands![d.bands!.length - 1]!.id) add('severe-symptoms');
    }
  }
  return out;
}

/** The alert codes of a status, counted, among those the ledger derives. */
const DERIVED = [
  'safety-flag',
  'safety-item-unanswered',
  'adverse-event',
  'late-entry',
  'treatment-stopped',
  'vitals-alert',
  'vitals-hold',
  'follow-up-overdue',
  'no-response',
  'reliable-deterioration',
  'severe-symptoms',
];
export function countAlerts(alerts: readonly { code: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts) if (DERIVED.includes(a.code)) out[a.code] = (out[a.code] ?? 0) + 1;
  return out;
}

/** `n` runs, or PROP_RUNS (e.g. `PROP_RUNS=3000 npx vitest run test/episode/properties.test.ts` to dig deeper). */
export const runs = (n: number) => ({ numRuns: Number(process.env.PROP_RUNS ?? n) });

/**
 * The refusal codes machine version 3 added that only event types carrying no safety signal can be refused
 * with (the rules of safety review, stopped treatment, dosing, chaperones and voids).
 */
export const V3_NO_SIGNAL_CODES = [
  'safety-review-required',
  'treatment-stopped',
  'contraindicated',
  'reason-required',
  'dose-mismatch',
  'dosing-too-soon',
  'chaperone-required',
  'unknown-adverse-event',
  'unknown-event',
  'cannot-void',
  'void-would-invalidate',
];
