/**
 * `Date.parse(x.recordedAt)` of an accepted event or fact, worked out once per object: rules that ask "was this
 * known when the new event was recorded" scan the whole history at every dose, and parsing the same instants
 * again each time was a large share of deciding an event. Weakly held, so memory follows the histories kept.
 */
const recorded = new WeakMap<object, number>();

/** Epoch ms of `x.recordedAt` (as `Date.parse` gives it, NaN included). */
export function recordedAtMs(x: { readonly recordedAt: string }): number {
  let ms = recorded.get(x);
  if (ms === undefined) {
    ms = Date.parse(x.recordedAt);
    recorded.set(x, ms);
  }
  return ms;
}

// The two instants parsed last. Deciding an event reads its `at` (and `recordedAt`) in several places (the
// envelope, the late-entry test, the fold, the rules); this parses each once per event.
let slotA = '';
let msA = Number.NaN;
let slotB = '';
let msB = Number.NaN;

/** `Date.parse(iso)`, remembering the last two instants asked. */
export function instantMs(iso: string): number {
  if (iso === slotA) return msA;
  if (iso === slotB) return msB;
  const ms = Date.parse(iso);
  slotB = slotA;
  msB = msA;
  slotA = iso;
  msA = ms;
  return ms;
}
