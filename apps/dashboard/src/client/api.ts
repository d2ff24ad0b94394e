/** The dashboard's JSON API, from the browser. */
import type {
  ApiError,
  AppendRequest,
  AppendResponse,
  CaseloadResponse,
  CohortResponse,
  InstrumentsResponse,
  MetaResponse,
  PatientResponse,
} from '../shared/api.js';

/** An API answer that is not a success, with the server's explanation. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.message);
    this.name = 'ApiFailure';
  }
}

async function read<T>(res: Response): Promise<T> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = { error: 'internal-error', message: `The server answered ${res.status} without a JSON body.` };
  }
  if (!res.ok) throw new ApiFailure(res.status, body as ApiError);
  return body as T;
}

function get<T>(path: string): Promise<T> {
  return fetch(path, { headers: { accept: 'application/json' } }).then((r) => read<T>(r));
}

export const api = {
  meta: () => get<MetaResponse>('/api/meta'),
  instruments: () => get<InstrumentsResponse>('/api/instruments'),
  caseload: () => get<CaseloadResponse>('/api/caseload'),
  patient: (patientId: string, episodeId?: string) =>
    get<PatientResponse>(
      `/api/patients/${encodeURIComponent(patientId)}${episodeId ? `?episode=${encodeURIComponent(episodeId)}` : ''}`,
    ),
  cohort: () => get<CohortResponse>('/api/cohort'),
  reviewSignal: (signalId: string, body: { outcome: string; recordedBy: string }) =>
    fetch(`/api/safety-signals/${encodeURIComponent(signalId)}/review`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => read<{ id: string }>(r)),
  append: (episodeId: string, body: AppendRequest) =>
    fetch(`/api/episodes/${encodeURIComponent(episodeId)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => read<AppendResponse>(r)),
};

/** A random id for an event (idempotency key): a retried submission is not recorded twice. */
export function newEventId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
