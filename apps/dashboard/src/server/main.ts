/**
 * `node apps/dashboard/dist/server/main.js`: start the dashboard and keep running until Ctrl-C.
 * Environment: HOST, PORT, KAPKIT_PUBLIC_ORIGIN, KAPKIT_ALLOWED_HOSTS, DATABASE_URL, KAPKIT_DASHBOARD_DATA, KAPKIT_DEMO,
 * SMTP_URL, SMTP_FROM, KAPKIT_MEASURE_LINK_DAYS, KAPKIT_CLINIC_PHONE, KAPKIT_CRISIS_FILE (docs/patients.md).
 */
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
if (running.seeded > 0) {
  console.log(
    `kapkit dashboard: seeded ${running.seeded} synthetic demo patients into ${running.store.location}`,
  );
}
// Measure reminders (docs/patients.md): never the SMTP URL, which can hold a password.
console.log(
  `kapkit dashboard: measure reminders ${running.reminders === 'email' ? 'by e-mail (SMTP_URL)' : 'off (no SMTP_URL): copy measure links or show their QR codes'}`,
);
console.log(`kapkit dashboard: ${running.url}${running.demo ? ' (demo data)' : ''}`);
// One-time links, after the URL: each works once (24 h). Demo data: one per demo account; a new store: set-up.
for (const link of running.links) {
  console.log(
    link.role === 'first-admin'
      ? `set up the first admin: ${link.url}`
      : `sign in as ${link.role}: ${link.url}`,
  );
}
const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
