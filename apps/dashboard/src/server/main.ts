/**
 * `node apps/dashboard/dist/server/main.js`: start the dashboard and keep running until Ctrl-C.
 * Environment: HOST, PORT, DATABASE_URL, KAPKIT_DASHBOARD_DATA, KAPKIT_DEMO.
 */
import { startDashboard } from './start.js';

const running = await startDashboard();
if (running.seeded > 0) {
  console.log(
    `kapkit dashboard: seeded ${running.seeded} synthetic demo patients into ${running.store.location}`,
  );
}
console.log(`kapkit dashboard: ${running.url}${running.demo ? ' (demo data)' : ''}`);
const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
