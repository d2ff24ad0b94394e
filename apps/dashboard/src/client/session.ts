/**
 * The signed-in account, as the server reports it (`GET /api/session`): who, which role, and the CSRF token
 * every write must carry. Without a session the page goes to the sign-in form.
 */
import type { SessionResponse } from '../shared/api.js';

let current: SessionResponse | null = null;

/** The signed-in account (after {@link loadSession}). */
export function signedIn(): SessionResponse | null {
  return current;
}

/** Go to the sign-in page, saying why (`idle`, `absolute`…). */
export function toSignIn(reason?: string): never {
  location.assign(`/auth/sign-in${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`);
  throw new Error('Signed out');
}

/** Read the session; `touch: false` does not count as activity (the periodic check). */
export async function loadSession(touch = true): Promise<SessionResponse> {
  const res = await fetch(`/api/session${touch ? '' : '?touch=0'}`, {
    headers: { accept: 'application/json' },
  });
  if (res.status === 401) {
    const body = (await res.json().catch(() => ({}))) as { reason?: string };
    toSignIn(body.reason);
  }
  if (!res.ok) throw new Error(`The server answered ${res.status} to the session check.`);
  current = (await res.json()) as SessionResponse;
  return current;
}
