import type { Readable, Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** Progress of reading a log: records so far, their rate, and (for a file) the share read and an ETA. */
export interface ReadProgress {
  /** Count one record; redraws at most a few times a second. */
  tick(records: number): void;
  /** Clear the bar (before anything else is printed on stderr). */
  stop(): void;
}

const quiet: ReadProgress = { tick() {}, stop() {} };
// Records between looks at the clock and the stream (a look is cheap, a redraw is not).
const CHECK_EVERY = 2048;
const REDRAW_MS = 200;

/** Whether a stream is a terminal. */
export function isTty(stream: unknown): boolean {
  return Boolean((stream as { isTTY?: boolean }).isTTY);
}

/**
 * A progress bar on stderr for a command reading a log (`validate`, `analyze`): records, records per second and,
 * when the input is a file of known size, the share of its bytes read and the ETA. Only on a terminal: piped or
 * redirected, stderr gets nothing from it.
 */
export function readProgress(
  command: string,
  stderr: Writable,
  input: Readable,
  sizeBytes: number | null,
): ReadProgress {
  if (!isTty(stderr)) return quiet;
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr as unknown as NodeJS.WritableStream,
      format:
        sizeBytes === null
          ? `kapkit ${command} | {records} records | {rate} records/s`
          : `kapkit ${command} [{bar}] {percentage}% | {records} records | {rate} records/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  let last = 0;
  bar.start(sizeBytes ?? 0, 0, { records: '0', rate: '0' });
  const update = (records: number, final: boolean) => {
    const now = Date.now();
    if (!final && now - last < REDRAW_MS) return;
    last = now;
    const seconds = Math.max((now - t0) / 1000, 1e-3);
    const bytes = (input as { bytesRead?: number }).bytesRead ?? 0;
    bar.update(sizeBytes === null ? 0 : Math.min(bytes, sizeBytes), {
      records: records.toLocaleString('en-US'),
      rate: Math.round(records / seconds).toLocaleString('en-US'),
    });
  };
  let count = 0;
  return {
    tick(records) {
      count = records;
      if (records % CHECK_EVERY === 0) update(records, false);
    },
    stop() {
      update(count, true);
      if (sizeBytes !== null) bar.update(sizeBytes);
      bar.stop();
    },
  };
}
