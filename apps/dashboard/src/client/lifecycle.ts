/** Clean-ups to run when the page changes (e.g. destroying charts), without the router importing chart.js. */
const cleanups = new Set<() => void>();

export function onLeave(fn: () => void): void {
  cleanups.add(fn);
}

export function leavePage(): void {
  for (const fn of cleanups) fn();
  cleanups.clear();
}
