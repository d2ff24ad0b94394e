/**
 * `node apps/dashboard/dist/server/main.js`: start the dashboard and keep running until Ctrl-C.
 * Environment: HOST, PORT, KAPKIT_PUBLIC_ORIGIN, KAPKIT_ALLOWED_HOSTS, DATABASE_URL, KAPKIT_DASHBOARD_DATA, KAPKIT_DEMO,
 * SMTP_URL, SMTP_FROM, KAPKIT_MEASURE_LINK_DAYS, KAPKIT_CLINIC_PHONE, KAPKIT_CRISIS_FILE (docs/patients.md).
 */
import { announceDashboard } from './announce.js';
import { NetworkConfigError } from './auth/network.js';
import { type RunningDashboard, startDashboard } from './start.js';

let running: RunningDashboard;
try {
  running = await startDashboard();
} catch (error) {
  if (!(error instanceof NetworkConfigError)) throw error;
  console.error(`kapkit dashboard: not started. ${error.message}`);
  process.exit(2);
}
announceDashboard(running);
const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
