import { createHash, type Hash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupHeader,
  type BackupSummary,
  type SignalLine,
  type Trailer,
} from './backup-format.js';
import { CLINIC_TABLES, type ClinicCounts, checkClinicLine, noClinicRows } from './backup-tables.js';
import { InvalidBackupError } from './errors.js';
import { SCHEMA_VERSION } from './schema.js';

/*
 * Reading a kapkit store backup (see backup.ts): line by line, checking the header, the order and types of its
 * lines, each clinic table's count and SHA-256, and the trailer; what it reads goes to the caller's handlers.
 */

export interface BackupLine {
  position: number;
  episodeId: string;
  version: number;
  committedAt: string;
  event: Record<string, unknown>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export type BackupInput = Readable | Iterable<string | Buffer> | AsyncIterable<string | Buffer>;

export const toStream = (input: BackupInput): Readable =>
  typeof (input as Readable).pipe === 'function' ? (input as Readable) : Readable.from(input);

/** What reading a backup passes on, line by line. */
interface BackupHandlers {
  readonly onEvent?: (line: BackupLine, lineNo: number) => Promise<void> | void;
  readonly onSignal?: (signal: SignalLine) => void;
  readonly onClinic?: (
    spec: (typeof CLINIC_TABLES)[number],
    row: Record<string, unknown>,
    lineNo: number,
  ) => Promise<void> | void;
}

/**
 * The clinic lines of a backup as they are read: tables in their order (after every event and safety signal),
 * each table's rows counted and its lines hashed, so that an altered table is named.
 */
class ClinicLines {
  readonly #seen = new Map<string, { rows: number; hash: Hash; first: number; last: number }>();
  #index = 0;

  constructor(readonly formatVersion: number) {}

  get started(): boolean {
    return this.#seen.size > 0;
  }

  /** Check a clinic line (`value` parsed from `text`) and count it; returns its table's spec and row. */
  see(value: Record<string, unknown>, text: string, lineNo: number) {
    if (this.formatVersion < 2) {
      throw new InvalidBackupError(lineNo, 'a table line in a version-1 backup (which has none)');
    }
    const spec = checkClinicLine(value.table, value.row);
    if (typeof spec === 'string') throw new InvalidBackupError(lineNo, spec);
    const index = CLINIC_TABLES.indexOf(spec);
    if (index < this.#index) {
      throw new InvalidBackupError(lineNo, `a ${spec.name} line after the lines of a later table`);
    }
    this.#index = index;
    let table = this.#seen.get(spec.name);
    if (!table) {
      table = { rows: 0, hash: createHash('sha256'), first: lineNo, last: lineNo };
      this.#seen.set(spec.name, table);
    }
    table.rows++;
    table.last = lineNo;
    table.hash.update(`${text}\n`);
    return { spec, row: value.row as Record<string, unknown> };
  }

  /** Check the end line's record of each table (a version-2 backup must have one); returns the counts. */
  finish(trailer: Trailer, lineNo: number): ClinicCounts {
    const counts = noClinicRows();
    if (this.formatVersion < 2) return counts;
    const recorded = trailer.clinic;
    if (!isRecord(recorded)) throw new InvalidBackupError(lineNo, 'the end line has no clinic tables');
    for (const { name } of CLINIC_TABLES) {
      const table = this.#seen.get(name);
      const rows = table?.rows ?? 0;
      const sha256 = (table?.hash ?? createHash('sha256')).digest('hex');
      const r = recorded[name];
      if (!r || r.rows !== rows || r.sha256 !== sha256) {
        const where = table ? ` in lines ${table.first}–${table.last}` : '';
        throw new InvalidBackupError(
          lineNo,
          `the end line records ${String(r?.rows)} ${name} rows with SHA-256 ${String(r?.sha256).slice(0, 12)}…, the file holds ${rows}${where} with SHA-256 ${sha256.slice(0, 12)}…: it was altered`,
        );
      }
      counts[name] = rows;
    }
    return counts;
  }
}

/**
 * Read a backup line by line: the header, then each event (passed to `onEvent` with its line number, after
 * checking its shape, that positions increase and that each episode's versions run 1, 2, 3, …), the safety
 * signals, the clinic tables' rows (format version 2, in table order), then the trailer, whose counts and
 * SHA-256s must match the lines.
 */
export async function readBackup(
  stream: Readable,
  handlers: BackupHandlers = {},
): Promise<BackupSummary & { header: BackupHeader; denseFrom: number }> {
  let safetySignals = 0;
  const hash = createHash('sha256');
  const next = new Map<string, number>();
  let lineNo = 0;
  let header: BackupHeader | null = null;
  let clinic: ClinicLines | null = null;
  let trailer: Trailer | null = null;
  let events = 0;
  let lastPosition = 0;
  let denseFrom = 0;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const raw of lines) {
    lineNo++;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    if (trailer) throw new InvalidBackupError(lineNo, 'there is more after the end line');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidBackupError(lineNo, 'not JSON');
    }
    if (!isRecord(value)) throw new InvalidBackupError(lineNo, 'not a JSON object');
    if (header === null || clinic === null) {
      header = readHeader(value, lineNo);
      clinic = new ClinicLines(header.formatVersion);
      continue;
    }
    if (value.end === true) {
      trailer = value as unknown as Trailer;
      continue;
    }
    hash.update(`${text}\n`);
    if (typeof value.table === 'string') {
      const { spec, row } = clinic.see(value, text, lineNo);
      await handlers.onClinic?.(spec, row, lineNo);
      continue;
    }
    if (clinic.started) {
      throw new InvalidBackupError(lineNo, 'an event or safety signal after the clinic tables');
    }
    if (isRecord(value.safetySignal)) {
      const g = value.safetySignal;
      if (
        typeof g.id !== 'string' ||
        typeof g.episodeId !== 'string' ||
        typeof g.refusalCode !== 'string' ||
        !Array.isArray(g.signals) ||
        typeof g.recordedAt !== 'string'
      ) {
        throw new InvalidBackupError(
          lineNo,
          'expected a safety signal {id, episodeId, refusalCode, signals, recordedAt}',
        );
      }
      safetySignals++;
      handlers.onSignal?.(g as unknown as SignalLine);
      continue;
    }
    const { position, episodeId, version, committedAt, event } = value;
    if (
      !Number.isSafeInteger(position) ||
      (position as number) <= lastPosition ||
      typeof episodeId !== 'string' ||
      !Number.isSafeInteger(version) ||
      typeof committedAt !== 'string' ||
      Number.isNaN(Date.parse(committedAt)) ||
      !isRecord(event) ||
      event.episodeId !== episodeId
    ) {
      throw new InvalidBackupError(
        lineNo,
        'expected {position (increasing), episodeId, version, committedAt, event of that episode}',
      );
    }
    const expected = next.get(episodeId) ?? 1;
    if (version !== expected) {
      throw new InvalidBackupError(
        lineNo,
        `episode "${episodeId}": version ${String(version)} where ${expected} was expected`,
      );
    }
    next.set(episodeId, expected + 1);
    // A store whose positions had gaps (made before schema version 2) keeps them: dense_from marks where
    // contiguous positions start.
    if ((position as number) !== lastPosition + 1) denseFrom = (position as number) - 1;
    lastPosition = position as number;
    events++;
    await handlers.onEvent?.({ position, episodeId, version, committedAt, event } as BackupLine, lineNo);
  }
  if (header === null || clinic === null) throw new InvalidBackupError(0, 'the file is empty');
  if (trailer === null)
    throw new InvalidBackupError(lineNo, 'the end line is missing: the file is truncated');
  const counts = clinic.finish(trailer, lineNo);
  const sha256 = hash.digest('hex');
  if (
    trailer.events !== events ||
    (trailer.safetySignals ?? 0) !== safetySignals ||
    trailer.sha256 !== sha256
  ) {
    throw new InvalidBackupError(
      lineNo,
      `the end line records ${String(trailer.events)} events and SHA-256 ${String(trailer.sha256).slice(0, 12)}…, the file holds ${events} events with SHA-256 ${sha256.slice(0, 12)}…: it was altered`,
    );
  }
  if (trailer.lastPosition !== lastPosition) {
    throw new InvalidBackupError(
      lineNo,
      `the end line records last position ${String(trailer.lastPosition)}, the last event is at ${lastPosition}`,
    );
  }
  return {
    header,
    events,
    episodes: next.size,
    lastPosition,
    safetySignals,
    clinic: counts,
    sha256,
    denseFrom,
  };
}

/** A backup's first line, checked: its format, a format version this @kapkit/store reads, its schema. */
function readHeader(value: Record<string, unknown>, lineNo: number): BackupHeader {
  if (value.format !== BACKUP_FORMAT) {
    throw new InvalidBackupError(lineNo, `not a kapkit store backup (no "format": "${BACKUP_FORMAT}")`);
  }
  if (value.formatVersion !== 1 && value.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new InvalidBackupError(
      lineNo,
      `backup format version ${String(value.formatVersion)}, this @kapkit/store reads 1 to ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (typeof value.schemaVersion !== 'number' || value.schemaVersion > SCHEMA_VERSION) {
    throw new InvalidBackupError(
      lineNo,
      `made from a store of schema version ${String(value.schemaVersion)}; this @kapkit/store supports up to ${SCHEMA_VERSION}`,
    );
  }
  return value as unknown as BackupHeader;
}
