/*
 * The lines of an NDJSON log as bytes: the same lines, numbers and text as `ndjsonTextLines` of @kapkit/core
 * (UTF-8, a byte-order mark at the start ignored, LF or CRLF line ends, blank lines skipped but counted), without
 * decoding the log. Both passes of an export route most lines by their episode id alone, and the second holds
 * them as bytes until their episode is decided: decoding each line once, when it is parsed, instead of decoding
 * the whole log twice and encoding the held lines again, saves a tenth of an export's time and most of the
 * garbage of its reading.
 */

/**
 * One non-blank line: its 1-based number and its bytes, `bytes[start, end)` (no line end, no byte-order mark).
 * `latin1` is all of `bytes` read as Latin-1, one character a byte, for searching ASCII with the string
 * functions (a search in a Buffer costs a call into C++ each time, several times a string search on a line).
 */
export interface ByteLine {
  line: number;
  bytes: Buffer;
  latin1: string;
  start: number;
  end: number;
}

const CR = 0x0d;

/** Whether the byte-order mark EF BB BF starts at `i`. */
function bomAt(b: Buffer, i: number, end: number): boolean {
  return end - i >= 3 && b[i] === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf;
}

/** Whether a line is blank as `String.prototype.trim` sees it (decoded only when it holds non-ASCII bytes). */
function isBlank(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    return c < 0x80 ? false : b.toString('utf8', start, end).trim() === '';
  }
  return true;
}

/**
 * The non-blank lines of `source` as {@link ByteLine}s. The object yielded is reused for the next line (copy
 * what you keep), and its bytes are valid until the next line is asked for.
 */
export async function* ndjsonByteLines(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<ByteLine> {
  const out: ByteLine = { line: 0, bytes: Buffer.alloc(0), latin1: '', start: 0, end: 0 };
  let rest: Buffer | null = null;
  let line = 0;
  /** 0: at the very start (a byte-order mark is dropped, as UTF-8 decoding drops it); 1: first line; 2: later. */
  let where = 0;
  const emit = (b: Buffer, latin1: string, start: number, end: number): boolean => {
    line++;
    if (end > start && b[end - 1] === CR) end--;
    // The first line also loses one more byte-order mark (as `ndjsonTextLines` strips U+FEFF from it).
    if (where === 1) {
      where = 2;
      if (bomAt(b, start, end)) start += 3;
    }
    if (isBlank(b, start, end)) return false;
    out.line = line;
    out.bytes = b;
    out.latin1 = latin1;
    out.start = start;
    out.end = end;
    return true;
  };
  for await (const chunk of source) {
    let b: Buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (b.length === 0) continue;
    if (rest !== null) {
      b = Buffer.concat([rest, b]);
      rest = null;
    }
    let start = 0;
    if (where === 0) {
      if (b.length < 3 && b.length > 0 && b[0] === 0xef) {
        // Too short to tell whether a byte-order mark starts the log: wait for more.
        rest = b;
        continue;
      }
      if (bomAt(b, 0, b.length)) start = 3;
      where = 1;
    }
    const latin1 = b.toString('latin1');
    let nl = latin1.indexOf('\n', start);
    while (nl !== -1) {
      if (emit(b, latin1, start, nl)) yield out;
      start = nl + 1;
      nl = latin1.indexOf('\n', start);
    }
    if (start < b.length) rest = b.subarray(start);
  }
  if (rest !== null && rest.length > 0) {
    let start = 0;
    if (where === 0) {
      if (bomAt(rest, 0, rest.length)) start = 3;
      where = 1;
    }
    if (start < rest.length && emit(rest, rest.toString('latin1'), start, rest.length)) yield out;
  }
}

/** The text of a line, as `ndjsonTextLines` gives it. */
export function lineText(l: ByteLine): string {
  return l.bytes.toString('utf8', l.start, l.end);
}

const KEY = '"episodeId"';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isAsciiSpace(c: number | undefined): boolean {
  return c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);
}

/**
 * The episode id of a line by the pattern `"episodeId"\s*:\s*"([^"\\]*)"` when the line names `"episodeId"`
 * exactly once, read from the bytes; or `undefined` when that cannot be told from ASCII bytes alone (the key
 * absent or repeated, no plain string value, non-ASCII bytes around or in the value): the caller then decodes
 * the line and routes the text (`episodeOfLine`), which gives this same answer wherever this one gives any.
 */
export function plainEpisodeId(l: ByteLine): string | undefined {
  const { bytes: b, latin1, start, end } = l;
  // Unbounded searches stop at the next line's key, a few bytes further on.
  const at = latin1.indexOf(KEY, start);
  if (at === -1 || at + KEY.length > end) return undefined;
  const again = latin1.indexOf(KEY, at + KEY.length);
  if (again !== -1 && again + KEY.length <= end) return undefined;
  let i = at + KEY.length;
  while (isAsciiSpace(b[i]) && i < end) i++;
  if (i >= end || b[i] !== 0x3a) return undefined;
  i++;
  while (isAsciiSpace(b[i]) && i < end) i++;
  if (i >= end || b[i] !== QUOTE) return undefined;
  const from = i + 1;
  const close = latin1.indexOf('"', from);
  if (close === -1 || close >= end || close === from) return undefined;
  for (let j = from; j < close; j++) {
    const c = b[j]!;
    if (c === BACKSLASH || c >= 0x80) return undefined;
  }
  return b.toString('latin1', from, close);
}

/**
 * Where a word occurs in each line, for a word most lines lack: the next occurrence in the current chunk is
 * searched once and remembered, rather than searched from every line to the end of its chunk.
 */
export class WordInLines {
  #chunk: Buffer | null = null;
  #next = -1;

  constructor(private readonly word: string) {}

  /** Whether the word occurs in the line. Lines must be asked in order. */
  in(l: ByteLine): boolean {
    if (l.bytes !== this.#chunk || (this.#next !== -1 && this.#next < l.start)) {
      this.#chunk = l.bytes;
      this.#next = l.latin1.indexOf(this.word, l.start);
    }
    return this.#next !== -1 && this.#next + this.word.length <= l.end;
  }
}
