/**
 * Who may call which API route: the server's access table, checked on every request by {@link allow}. A
 * route missing from the table cannot be registered with a guard (the key is typed) and a test checks that
 * every API route of the app is in it. Care-team scoping (a clinician sees only the patients of their teams)
 * is checked inside the patient routes, where the patient is known.
 */
import type { StaffRole } from '@kapkit/store';

const CLINICIANS = ['therapist', 'medical'] as const satisfies readonly StaffRole[];
const EVERYONE = ['admin', 'therapist', 'medical', 'researcher'] as const satisfies readonly StaffRole[];

/**
 * The roles allowed on each route. `researcher`: the cohort and the de-identified export, never an
 * identified patient page or the caseload. `admin`: accounts, care teams and the audit trail, no clinical
 * record.
 */
export const routeAccess = {
  'GET /api/session': EVERYONE,
  'GET /api/meta': EVERYONE,
  'GET /api/instruments': EVERYONE,
  'GET /api/caseload': CLINICIANS,
  'GET /api/patients/:patientId': CLINICIANS,
  'POST /api/episodes/:episodeId/events': CLINICIANS,
  'POST /api/safety-signals/:signalId/review': CLINICIANS,
  'GET /api/measure-requests': CLINICIANS,
  'GET /api/patients/:patientId/measure-requests': CLINICIANS,
  'POST /api/patients/:patientId/measure-requests': CLINICIANS,
  'POST /api/patients/:patientId/contact': CLINICIANS,
  'POST /api/measure-requests/:requestId/revoke': CLINICIANS,
  'POST /api/measure-requests/:requestId/link': CLINICIANS,
  'GET /api/cohort': [...CLINICIANS, 'researcher'],
  'GET /api/export': [...CLINICIANS, 'researcher'],
  'GET /api/admin/users': ['admin'],
  'POST /api/admin/users': ['admin'],
  'POST /api/admin/users/:userId': ['admin'],
  'POST /api/admin/users/:userId/sign-in-link': ['admin'],
  'GET /api/admin/teams': ['admin'],
  'POST /api/admin/teams': ['admin'],
  'POST /api/admin/teams/:teamId/members': ['admin'],
  'POST /api/admin/teams/:teamId/patients': ['admin'],
  'GET /api/admin/patients': ['admin'],
  'GET /api/audit': ['admin'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type RouteKey = keyof typeof routeAccess;

/** The roles allowed on `route`. */
export function rolesFor(route: RouteKey): readonly StaffRole[] {
  return routeAccess[route];
}
