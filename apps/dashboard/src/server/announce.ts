import type { RunningDashboard } from './start.js';

/**
 * What the command-line entry points (`dist/server/main.js`, the repository's `npm start`) print once the
 * dashboard listens: the demo seeding, how measure reminders go, the URL and then the one-time links.
 */
export function announceDashboard(
  running: RunningDashboard,
  print: (line: string) => void = console.log,
): void {
  if (running.seeded > 0) {
    print(
      `kapkit dashboard: seeded ${running.seeded} synthetic demo patients into ${running.store.location}`,
    );
  }
  // Measure reminders (docs/patients.md): never the SMTP URL, which can hold a password.
  print(
    `kapkit dashboard: measure reminders ${running.reminders === 'email' ? 'by e-mail (SMTP_URL)' : 'off (no SMTP_URL): copy measure links or show their QR codes'}`,
  );
  print(`kapkit dashboard: ${running.url}${running.demo ? ' (demo data)' : ''}`);
  // One-time links, after the URL: each works once (24 h). Demo data: one per demo account; a new store: set-up.
  for (const link of running.links) {
    print(
      link.role === 'first-admin'
        ? `set up the first admin: ${link.url}`
        : `sign in as ${link.role}: ${link.url}`,
    );
  }
}
