import { type Cipher, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The lines of the episodes under way, held as UTF-8 bytes until each episode's last line has been read (an
 * export folds and writes an episode in one go then). Bytes rather than parsed events or machine states: a
 * line takes about a quarter of the memory of the event it parses to and less than the episode state it would
 * grow, and it lives outside the JavaScript heap. An episode's lines are packed into chunks, and its line
 * numbers and byte lengths into typed arrays (12 bytes a line), so thousands of episodes under way in an
 * interleaved log neither fill the heap nor keep the garbage collector busy.
 *
 * Once more than {@link SPILL_ABOVE_BYTES} are held in memory, each full chunk is written to a spill file
 * instead (a private temporary file, deleted from its folder as soon as it is opened) and the chunk reused: the
 * memory then stays at one chunk per episode under way whatever the length of the log, and the spilled bytes
 * sit in the file (the operating system's page cache, not the process's memory) until their episode is read.
 * The lines are the input's, identified even when the export is de-identified, so the file holds them encrypted
 * (AES-256 in counter mode, with a key drawn for the one file and kept only in the process's memory): a crash, a
 * disk image or another process reading the temporary folder never sees them in clear.
 */

/** Bytes of a new chunk (a longer line gets a chunk of its own length). */
const CHUNK_BYTES = 4096;

/**
 * Bytes of held lines above which full chunks go to the spill file. A log grouped by episode (as a store
 * exports it), or one with a few hundred episodes under way, stays below it and never writes one; an
 * interleaved log of a year's enrolment goes far above it (measured: 125 MB of lines held for 5,812 episodes
 * under way, on 253,210 assessments). kapkit default.
 */
export const SPILL_ABOVE_BYTES = 16 * 2 ** 20;

/**
 * A private, anonymous temporary file that held chunks are appended to and read back from. Its folder (mode
 * 700) is removed as soon as the file is open, so the bytes leave no file behind even when the process is
 * killed; where a file cannot be removed while open (Windows), it is removed by {@link SpillFile.close}.
 *
 * What it holds is encrypted with AES-256-CTR under a random key of this file alone, which never leaves the
 * process: the writes go through one cipher stream (byte `n` of the file is byte `n` of the key stream), and a
 * read starts the key stream at its position. Each position is written once, so no key stream is reused.
 * Confidentiality only: the file lives as long as the export and only this process has it open.
 */
export class SpillFile {
  readonly #fd: number;
  #dir: string | null;
  #end = 0;
  #scratch = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  readonly #key = randomBytes(32);
  readonly #nonce = randomBytes(8);
  readonly #cipher: Cipher;

  constructor() {
    this.#cipher = createCipheriv('aes-256-ctr', this.#key, this.#counter(0));
    const dir = mkdtempSync(join(tmpdir(), 'kapkit-export-held-'));
    try {
      this.#fd = openSync(join(dir, 'held.bin'), 'w+', 0o600);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    this.#dir = dir;
    try {
      rmSync(dir, { recursive: true, force: true });
      this.#dir = null;
    } catch {}
  }

  /** The counter block where the key stream of file byte `16 × block` starts: the file's nonce, then `block`. */
  #counter(block: number): Buffer {
    const iv = Buffer.alloc(16);
    this.#nonce.copy(iv, 0);
    iv.writeUIntBE(block, 10, 6);
    return iv;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#end;
  }

  /** Append `bytes` (encrypted; `bytes` itself is not written to); returns where they start. */
  append(bytes: Uint8Array): number {
    const at = this.#end;
    const sealed = this.#cipher.update(bytes);
    let done = 0;
    while (done < sealed.length) done += writeSync(this.#fd, sealed, done, sealed.length - done, at + done);
    this.#end += sealed.length;
    return at;
  }

  /** The `length` bytes at `position`, decrypted, in memory that the next `read` may reuse (decode them before). */
  read(position: number, length: number): Buffer {
    if (this.#scratch.length < length) this.#scratch = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, this.#scratch, done, length - done, position + done);
      if (n === 0) throw new Error(`kapkit export: the spill file ended at byte ${position + done}`);
      done += n;
    }
    const skip = position % 16;
    const decipher = createDecipheriv('aes-256-ctr', this.#key, this.#counter((position - skip) / 16));
    if (skip > 0) decipher.update(Buffer.alloc(skip));
    return decipher.update(this.#scratch.subarray(0, length));
  }

  /** Close (and, where it could not be removed when opened, remove) the file. Never throws. */
  close(): void {
    try {
      closeSync(this.#fd);
    } catch {}
    if (this.#dir !== null) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A chunk of an episode's lines: in memory, or written to the spill file at `position`. */
interface Chunk {
  bytes: Buffer | null;
  position: number;
  length: number;
}

/** A copy of `a` in a typed array twice as long. */
function grown<T extends Float64Array | Uint32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** The held lines of one episode: their numbers and byte lengths, and their text packed into a few chunks. */
export class PendingEpisode {
  #count = 0;
  #lines = new Float64Array(8);
  #lengths = new Uint32Array(8);
  readonly #chunks: Chunk[] = [];
  /** The chunk lines are appended to (always the last of `#chunks`, and in memory). */
  #open: Buffer | null = null;
  #bytes = 0;

  constructor(readonly firstLine: number) {}

  /** Bytes of memory the held lines take (chunks in memory; spilled ones are in the file). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Hold one line: its text, or its UTF-8 bytes `bytes[start, end)`. `spill`: when this line does not fit in the
   * open chunk, write that chunk to this file and reuse its memory. Returns how many bytes of memory the held
   * lines grew by.
   */
  add(
    line: number,
    text: string | { readonly bytes: Buffer; readonly start: number; readonly end: number },
    spill: SpillFile | null,
  ): number {
    const before = this.#bytes;
    const length = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.end - text.start;
    let last = this.#chunks[this.#chunks.length - 1];
    let open = this.#open;
    if (open === null || last === undefined || last.length + length > open.length) {
      if (last !== undefined && open !== null && spill !== null) {
        last.position = spill.append(open.subarray(0, last.length));
        last.bytes = null;
        if (length > open.length) {
          this.#bytes -= open.length;
          open = null;
        }
      } else open = null;
      if (open === null) {
        // Outside the pool of small buffers: a held chunk never keeps a shared slab alive.
        open = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length));
        this.#bytes += open.length;
      }
      last = { bytes: open, position: 0, length: 0 };
      this.#chunks.push(last);
      this.#open = open;
    }
    if (typeof text === 'string') open.write(text, last.length, length, 'utf8');
    else text.bytes.copy(open, last.length, text.start, text.end);
    last.length += length;
    if (this.#count === this.#lines.length) {
      this.#lines = grown(this.#lines);
      this.#lengths = grown(this.#lengths);
    }
    this.#lines[this.#count] = line;
    this.#lengths[this.#count] = length;
    this.#count++;
    return this.#bytes - before;
  }

  /** The held lines in the order they were read, with their numbers (`spill`: the file chunks were written to). */
  *lines(spill: SpillFile | null = null): Generator<{ readonly line: number; readonly text: string }> {
    let k = -1;
    let chunk: Buffer | undefined;
    let end = 0;
    let at = 0;
    for (let i = 0; i < this.#count; i++) {
      const length = this.#lengths[i]!;
      if (at + length > end || k === -1) {
        // Lines never span chunks: the next line starts the next chunk.
        const next = this.#chunks[++k]!;
        if (next.bytes !== null) chunk = next.bytes;
        else if (spill !== null) chunk = spill.read(next.position, next.length);
        else throw new Error('kapkit export: held lines were spilled, but no spill file was given');
        end = next.length;
        at = 0;
      }
      yield { line: this.#lines[i]!, text: chunk!.toString('utf8', at, at + length) };
      at += length;
    }
  }
}
