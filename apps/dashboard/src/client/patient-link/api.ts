/**
 * The patient page's two calls and the answers kept on the device until they are saved. The token comes from
 * the page's address (`/m/<token>`) and travels in the JSON body, never in an API path or a query.
 */
import type {
  PatientFormResponse,
  PatientLinkError,
  PatientSubmitResponse,
} from '../../shared/measure-requests.js';

export type Answer<T> =
  | { readonly ok: true; readonly data: T }
  /** `status` 0: no answer from the server (offline, timed out). */
  | { readonly ok: false; readonly status: number; readonly error: PatientLinkError | null };

async function post<T>(path: string, body: unknown): Promise<Answer<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    return { ok: false, status: 0, error: null };
  }
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.ok) return { ok: true, data: data as T };
  const error = data && typeof data === 'object' && 'message' in data ? (data as PatientLinkError) : null;
  return { ok: false, status: res.status, error };
}

export const openForm = (token: string) => post<PatientFormResponse>('/m/api/open', { token });

export const submitAnswers = (token: string, answers: Record<string, number[]>) =>
  post<PatientSubmitResponse>('/m/api/submit', { token, answers });

/** A submission not yet confirmed by the server, kept to send again (and the crisis screen it showed). */
export interface PendingSubmission {
  readonly token: string;
  readonly answers: Record<string, number[]>;
  readonly crisis: boolean;
  readonly form: PatientFormResponse;
}

const KEY = 'kapkit-measure-pending';

export function keepPending(p: PendingSubmission): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(p));
  } catch {
    // Storage full or disabled (private mode): the page still holds the answers while it stays open.
  }
}

export function pendingFor(token: string): PendingSubmission | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const p = JSON.parse(raw) as PendingSubmission;
    return p.token === token ? p : null;
  } catch {
    return null;
  }
}

export function clearPending(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing kept.
  }
}
