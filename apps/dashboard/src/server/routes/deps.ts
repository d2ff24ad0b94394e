import type { InstrumentRegistry } from '@kapkit/core/instruments';
import type { AccountStore, EventStore } from '@kapkit/store';
import type { Context } from 'hono';
import type { AuthEnv, AuthSettings, auditor } from '../auth/session.js';
import type { DashboardOptions } from '../options.js';
import type { DashboardReadModel } from '../read-model.js';

/** What every route module gets from the app: the store, the read model, sign-in and the clock. */
export interface RouteDeps {
  readonly options: DashboardOptions;
  readonly store: EventStore;
  readonly registry: InstrumentRegistry;
  readonly read: DashboardReadModel;
  readonly settings: AuthSettings;
  readonly accounts: AccountStore;
  readonly audit: ReturnType<typeof auditor>;
  readonly bodyLimitBytes: number;
  /** "Now", epoch ms. */
  readonly now: () => number;
  /** "Now" as an ISO instant in the dashboard's UTC offset, to the second. */
  readonly asOf: () => string;
  /** The session of a guarded route (the guard has checked that there is one). */
  readonly sessionOf: (c: Context<AuthEnv>) => NonNullable<AuthEnv['Variables']['session']>;
  /** A clinician's care: true when one of their teams looks after the patient. */
  readonly inCare: (c: Context<AuthEnv>, patientId: string) => Promise<boolean>;
  /** 403 for a patient outside the clinician's care teams, audited. */
  readonly notInCare: (
    c: Context<AuthEnv>,
    action: 'read' | 'write',
    patientId: string | null,
    episodeId: string | null,
  ) => Promise<Response>;
}
