/**
 * One patient: alerts, the outcome chart with the same numbers as a table, response/remission/reliable
 * change with their definitions, the latest answers by item, the session timeline and vitals. The sections
 * are in `patient/`; this module puts them in order.
 */

import type { EpisodeView, PatientResponse } from '../../shared/api.js';
import { api } from '../api.js';
import { h } from '../dom.js';
import { day, percent, score, words } from '../format.js';
import type { FormContext } from '../forms.js';
import { alertList, demoBadge, fact, link } from '../ui.js';
import { measureRequestsSection } from './measure-requests.js';
import { latestItemsSection, outcomesSection } from './patient/outcomes.js';
import { refusedSignals } from './patient/signals.js';
import { timelineSection } from './patient/timeline.js';
import { vitalsSection } from './patient/vitals.js';
import { RECORD_FORMS } from './record.js';

/** The patient's episodes as links, the shown one in bold; null for a single episode. */
function episodeLinks(data: PatientResponse, ep: EpisodeView, base: string): HTMLElement | null {
  if (data.episodes.length <= 1) return null;
  return h(
    'p',
    { class: 'episodes' },
    'Episodes: ',
    data.episodes.map((e) =>
      e.episodeId === ep.episodeId
        ? h('strong', {}, `${e.episodeId} (${words(e.phase)}) `)
        : [
            link(`${base}?episode=${encodeURIComponent(e.episodeId)}`, `${e.episodeId} (${words(e.phase)})`),
            ' ',
          ],
    ),
  );
}

/** The summary facts: phase, doses, critical period, follow-up, consent, medications, titration, maintenance. */
function summaryFacts(ep: EpisodeView): HTMLElement {
  return h(
    'dl',
    { class: 'facts summary' },
    fact('Phase', words(ep.phase)),
    fact('Episode', `${ep.episodeId}, opened ${day(ep.openedAt)}`),
    fact(
      'Doses given',
      ep.plannedDosingSessions
        ? `${ep.dosesGiven} of ${ep.plannedDosingSessions} planned`
        : String(ep.dosesGiven),
    ),
    fact('Doses on hand', `${score(ep.dosesOnHand)} (authorised ${ep.dosesAuthorized})`),
    fact(
      'Next dose to keep the critical-period chain',
      ep.criticalPeriods.nextDoseLatestDay ? `by ${ep.criticalPeriods.nextDoseLatestDay}` : '—',
    ),
    fact(
      'Critical period',
      `${ep.criticalPeriods.windowDays} days per dose; coverage ${percent(ep.criticalPeriods.coverage)}`,
    ),
    fact(
      'Medical follow-up',
      ep.followUp ? `due ${day(ep.followUp.dueAt)}${ep.followUp.overdue ? ' (overdue)' : ''}` : '—',
    ),
    fact(
      'Informed consent',
      ep.consent.inForce.length
        ? `${ep.consent.inForce.map(words).join(', ')}${ep.consent.documentVersion ? ` (${ep.consent.documentVersion})` : ''}`
        : ep.consent.withdrawn.length
          ? `withdrawn: ${ep.consent.withdrawn.map(words).join(', ')}`
          : 'none recorded',
    ),
    fact(
      'Concurrent medications',
      ep.medications.reviewedAt === null
        ? 'not reviewed'
        : ep.medications.list.length
          ? `${ep.medications.list.map((m) => `${m.name}${m.dailyDose !== null ? ` ${m.dailyDose} ${m.unit ?? 'mg'}/day` : ''}`).join(', ')}${ep.medications.diazepamEquivalentMgPerDay !== null ? `; ≈ ${score(ep.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day` : ''} (reviewed ${day(ep.medications.reviewedAt)})`
          : `none (reviewed ${day(ep.medications.reviewedAt)})`,
    ),
    ep.titration
      ? fact('Titration', ep.titration.map((t) => `from session ${t.fromSession}: ${t.doseMg} mg`).join('; '))
      : null,
    ep.maintenance
      ? fact(
          'Maintenance',
          `every ${ep.maintenance.intervalDays} days; ${ep.maintenance.sessions} session(s); next due ${day(ep.maintenance.nextDueAt)}${ep.maintenance.status === 'not-due' ? '' : ` (${ep.maintenance.status})`}`,
        )
      : null,
  );
}

/** What can be recorded next: every form while the course is open, else adverse events only (with a note). */
function recordActions(ep: EpisodeView, recordBase: string): (HTMLElement | null)[] {
  return [
    ep.unreviewedSafetyFlags.length > 0 || ep.unreviewedAdverseEvents.length > 0
      ? h('p', {}, link(`${recordBase}review`, 'Record the safety review', { class: 'button' }))
      : null,
    ep.closed !== null
      ? h(
          'p',
          { class: 'muted' },
          `This course was ${ep.closed?.kind} on ${day(ep.closed?.at)}; only adverse events, reviews and corrections can still be recorded. `,
          link(`${recordBase}adverse-event`, 'Record an adverse event', { class: 'button small' }),
        )
      : h(
          'nav',
          { class: 'record-links', 'aria-label': 'Record' },
          h('span', {}, 'Record: '),
          RECORD_FORMS.map(([form, label]) => [
            link(`${recordBase}${form}`, label, { class: 'button small' }),
            ' ',
          ]),
        ),
  ];
}

export async function renderPatient(patientId: string, episodeId?: string): Promise<HTMLElement> {
  const [data, measures]: [PatientResponse, HTMLElement] = await Promise.all([
    api.patient(patientId, episodeId),
    measureRequestsSection(patientId),
  ]);
  const ep = data.episode;
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const recordBase = `${base}/record${episodeId ? `?episode=${encodeURIComponent(episodeId)}&` : '?'}form=`;
  const ctx: FormContext = {
    episodeId: ep.episodeId,
    version: ep.version,
    patientUrl: `${base}${episodeId ? `?episode=${encodeURIComponent(episodeId)}` : ''}`,
    serverOffsetMs: Date.parse(data.serverTime) - Date.now(),
  };
  // Everything awaited before the first chart is made: a chart draws on the next frame, once the page is mounted.
  const latestItems = await latestItemsSection(ep);
  return h(
    'section',
    { class: 'page patient', 'data-episode': ep.episodeId, 'data-version': ep.version },
    h('p', { class: 'crumbs' }, link('/', '← Caseload')),
    h('h1', {}, `Patient ${data.patientId}`, ' ', demoBadge(data.synthetic)),
    episodeLinks(data, ep, base),
    summaryFacts(ep),
    h('h2', {}, 'Alerts'),
    alertList(ep.alerts),
    refusedSignals(ep),
    ep.closed !== null ? null : measures,
    recordActions(ep, recordBase),
    outcomesSection(ep),
    latestItems,
    timelineSection(ep, ctx, recordBase),
    vitalsSection(ep),
  );
}
