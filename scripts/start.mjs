// `npm start`: after `turbo run build`, bring up the therapist dashboard on http://127.0.0.1 (PORT, default
// 8787) over the embedded PGlite store in .data/dashboard (git-ignored), seeded on first run with a synthetic
// demo caseload. DATABASE_URL switches to PostgreSQL; HOST and PORT change where it listens. Ctrl-C stops it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { announceDashboard, startDashboard } = await import(
  join(root, 'apps', 'dashboard', 'dist', 'server', 'index.js')
);

let running;
try {
  running = await startDashboard({ defaultDataDir: join(root, '.data', 'dashboard') });
} catch (error) {
  // A refused network setting (HOST, KAPKIT_PUBLIC_ORIGIN) is a usage error (2); anything else could not start (1).
  const usage = error?.name === 'NetworkConfigError';
  console.error(`kapkit dashboard: ${usage ? 'not started.' : 'could not start:'} ${error.message}`);
  process.exit(usage ? 2 : 1);
}
announceDashboard(running);
console.log('Press Ctrl-C to stop.');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
