/** A time-ordered run of items (one episode's events, or their serialised lines) for {@link mergeByTime}. */
export interface TimedRun<T> {
  /** Tie-breaker: at equal times, the run with the lower index goes first. */
  readonly index: number;
  readonly items: readonly T[];
  /** Epoch ms of each item, non-decreasing, parallel to `items`. */
  readonly times: readonly number[];
  /** No item of this or any later run is earlier than this (epoch ms). */
  readonly notBeforeMs: number;
}

interface Cursor<T> {
  readonly run: TimedRun<T>;
  i: number;
}

/**
 * Merge time-ordered runs into one stream in global time order (ties: lower `index` first). Runs must come
 * in non-decreasing `notBeforeMs` order; a run is pulled from `runs` only when its items could be next, so
 * only the runs under way are held in memory (a binary heap of cursors).
 */
export function* mergeByTime<T>(runs: Iterable<TimedRun<T>>): Generator<T> {
  const heap: Cursor<T>[] = [];
  const timeOf = (c: Cursor<T>) => c.run.times[c.i]!;
  const less = (a: Cursor<T>, b: Cursor<T>) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    return ta < tb || (ta === tb && a.run.index < b.run.index);
  };
  const swap = (x: number, y: number) => {
    const t = heap[x]!;
    heap[x] = heap[y]!;
    heap[y] = t;
  };
  const siftUp = (k: number) => {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!less(heap[k]!, heap[parent]!)) return;
      swap(k, parent);
      k = parent;
    }
  };
  const siftDown = (k: number) => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === k) return;
      swap(k, m);
      k = m;
    }
  };
  const source = runs[Symbol.iterator]();
  let pending: TimedRun<T> | null = null;
  let exhausted = false;
  for (;;) {
    // Admit every run that could start before (or with) the earliest pending item.
    for (;;) {
      if (pending === null && !exhausted) {
        const n = source.next();
        if (n.done) exhausted = true;
        else pending = n.value;
      }
      if (pending === null) break;
      if (heap.length > 0 && pending.notBeforeMs > timeOf(heap[0]!)) break;
      if (pending.items.length > 0) {
        heap.push({ run: pending, i: 0 });
        siftUp(heap.length - 1);
      }
      pending = null;
    }
    const top = heap[0];
    if (top === undefined) return;
    yield top.run.items[top.i]!;
    top.i++;
    if (top.i < top.run.items.length) siftDown(0);
    else {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown(0);
      }
    }
  }
}
