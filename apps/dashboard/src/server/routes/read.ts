import { Hono } from 'hono';
import type {
  CaseloadResponse,
  CohortResponse,
  InstrumentsResponse,
  MetaResponse,
  PatientResponse,
} from '../../shared/api.js';
import { guardedRoutes } from '../auth/guarded.js';
import type { AuthEnv } from '../auth/session.js';
import { apiError } from '../http.js';
import { sortCaseload } from '../views/caseload.js';
import { episodeView, phaseOfState } from '../views/episode.js';
import type { RouteDeps } from './deps.js';

/** Reading: the signed-in session, the dashboard's meta, instruments, caseload, a patient, the cohort. */
export function readRoutes(deps: RouteDeps): Hono<AuthEnv> {
  const { options, store, registry, read, settings, accounts, audit, bodyLimitBytes, now, asOf } = deps;
  const { sessionOf, inCare, notInCare } = deps;
  const routes = new Hono<AuthEnv>();
  const route = guardedRoutes(routes, settings);

  route('GET /api/session', (c) => {
    const s = sessionOf(c);
    return c.json({
      user: { id: s.user.id, email: s.user.email, displayName: s.user.displayName, role: s.user.role },
      csrfToken: s.csrfToken,
      idleMinutes: settings.session.idleMs / 60_000,
      expiresAt: s.expiresAt,
    });
  });

  route('GET /api/meta', async (c) => {
    await read.refresh();
    const body: MetaResponse = {
      app: 'kapkit dashboard',
      demo: read.isDemo(),
      engine: store.engine,
      asOf: asOf(),
      patients: read.index.byPatient.size,
      episodes: read.index.episodes.size,
      bodyLimitBytes,
      export: {
        available: Boolean(options.exporter),
        formats: options.exporter?.formats ?? [],
        note:
          options.exportNote ??
          (options.exporter
            ? 'De-identified: pseudonymous ids, dates shifted per patient, free text dropped.'
            : 'The research export is not available in this build.'),
      },
    };
    return c.json(body);
  });

  route('GET /api/instruments', (c) => c.json(registry.list() satisfies InstrumentsResponse));

  route('GET /api/caseload', async (c) => {
    await read.refresh();
    const when = asOf();
    const signals = await read.signalsByPatient();
    const rows = [];
    // A clinician's caseload: the patients of their care teams only.
    const mine = await accounts.patientsOf(sessionOf(c).user.id);
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'caseload' });
    for (const patientId of read.index.byPatient.keys()) {
      if (!mine.has(patientId)) continue;
      const episodes = read.index.episodesOf(patientId);
      const latest = episodes[episodes.length - 1];
      if (!latest) continue;
      rows.push(await read.caseloadRow(latest, when, signals.get(patientId) ?? []));
    }
    const body: CaseloadResponse = {
      asOf: when,
      demo: rows.some((r) => r.synthetic),
      rows: sortCaseload(rows),
    };
    return c.json(body);
  });

  route('GET /api/patients/:patientId', async (c) => {
    await read.refresh();
    const patientId = c.req.param('patientId');
    if (!(await inCare(c, patientId))) return notInCare(c, 'read', patientId, c.req.query('episode') ?? null);
    const episodes = read.index.episodesOf(patientId);
    if (episodes.length === 0) {
      return apiError(c, 404, { error: 'not-found', message: 'No such patient.' });
    }
    const wanted = c.req.query('episode');
    const episodeId = wanted && episodes.includes(wanted) ? wanted : episodes[episodes.length - 1]!;
    if (wanted && wanted !== episodeId) {
      return apiError(c, 404, { error: 'not-found', message: 'No such episode for this patient.' });
    }
    const when = asOf();
    const summaries = [];
    let selected: Awaited<ReturnType<typeof store.loadEpisode>> | null = null;
    for (const id of episodes) {
      const loaded = await read.loadEpisode(id);
      if (id === episodeId) selected = loaded;
      summaries.push({
        episodeId: id,
        openedAt: loaded.state.context.openedAt,
        phase: phaseOfState(loaded.state),
      });
    }
    await audit(c, { action: 'read', outcome: 'allowed', patientId, episodeId });
    const { state, version } = selected ?? (await read.loadEpisode(episodeId));
    const stored = await store.readEpisode(episodeId);
    const events = stored.filter((s) => s.version <= version).map((s) => s.event);
    const patientSignals = [
      ...(await store.safetySignals({ patientId })),
      ...(await store.safetySignals({ episodeId })).filter((s) => s.patientId === null),
    ];
    const episode = episodeView(
      state,
      version,
      events,
      when,
      registry,
      await read.baselineSd(),
      patientSignals,
    );
    const body: PatientResponse = {
      asOf: when,
      serverTime: new Date(now()).toISOString(),
      patientId,
      synthetic: episode.synthetic,
      episodes: summaries,
      episode,
    };
    return c.json(body);
  });

  route('GET /api/cohort', async (c) => {
    const result = await read.cohort();
    await audit(c, { action: 'read', outcome: 'allowed', reason: 'cohort' });
    const body: CohortResponse = {
      asOf: asOf(),
      demo: read.isDemo(),
      episodes: read.index.episodes.size,
      records: result.records,
      instruments: result.instruments,
      notes: result.notes,
    };
    return c.json(body);
  });

  return routes;
}
