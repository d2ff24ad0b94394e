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
import type {
  MeasureLinkResponse,
  MeasureRequestSummaryResponse,
  MeasureRequestView,
  PatientMeasureRequestsResponse,
} from '../shared/measure-requests.js';
import { signedIn, toSignIn } from './session.js';

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
  // Signed out (idle, expired, or another tab signed out): to the sign-in page, saying why.
  if (res.status === 401) toSignIn((body as { reason?: string }).reason);
  if (!res.ok) throw new ApiFailure(res.status, body as ApiError);
  return body as T;
}

function get<T>(path: string): Promise<T> {
  return fetch(path, { headers: { accept: 'application/json' } }).then((r) => read<T>(r));
}

/** A JSON POST with the session's CSRF token. */
function post<T>(path: string, body: unknown): Promise<T> {
  return fetch(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-csrf-token': signedIn()?.csrfToken ?? '',
    },
    body: JSON.stringify(body),
  }).then((r) => read<T>(r));
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
  // Who reviews and who records is the signed-in account: the server takes role and id from the session.
  reviewSignal: (signalId: string, body: { outcome: string; recordedBy?: string }) =>
    post<{ id: string }>(`/api/safety-signals/${encodeURIComponent(signalId)}/review`, body),
  append: (episodeId: string, body: AppendRequest) =>
    post<AppendResponse>(`/api/episodes/${encodeURIComponent(episodeId)}/events`, body),
  // Measure requests: patients complete their own measures through a link.
  measureSummary: () => get<MeasureRequestSummaryResponse>('/api/measure-requests'),
  measureRequests: (patientId: string) =>
    get<PatientMeasureRequestsResponse>(`/api/patients/${encodeURIComponent(patientId)}/measure-requests`),
  sendMeasures: (patientId: string, body: { instruments: string[]; email?: boolean }) =>
    post<MeasureLinkResponse>(`/api/patients/${encodeURIComponent(patientId)}/measure-requests`, body),
  newMeasureLink: (requestId: string) =>
    post<MeasureLinkResponse>(`/api/measure-requests/${encodeURIComponent(requestId)}/link`, {}),
  revokeMeasureRequest: (requestId: string) =>
    post<MeasureRequestView>(`/api/measure-requests/${encodeURIComponent(requestId)}/revoke`, {}),
  setPatientContact: (patientId: string, email: string | null) =>
    post<{ contact: string | null }>(`/api/patients/${encodeURIComponent(patientId)}/contact`, { email }),
};

/** A random id for an event (idempotency key): a retried submission is not recorded twice. */
export function newEventId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
