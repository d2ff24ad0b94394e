import { deflateRawSync, inflateRawSync } from 'node:zlib';

/*
 * The lines of the episodes under way, held as UTF-8 bytes until each episode's last line has been read (an
 * export folds and writes an episode in one go then). Bytes rather than parsed events or machine states: a
 * line takes about a quarter of the memory of the event it parses to and less than the episode state it would
 * grow, and it lives outside the JavaScript heap, so thousands of episodes under way in an interleaved log
 * neither fill the heap nor keep the garbage collector busy. When more than {@link DEFLATE_ABOVE_BYTES} are held,
 * each full chunk is also deflated (zlib, fastest level): event lines of one episode shrink about 5 times.
 */

/** Bytes of a new chunk (a longer line gets a chunk of its own length). */
const CHUNK_BYTES = 4096;

/**
 * Bytes of held lines above which full chunks are deflated. A log grouped by episode (as a store exports it),
 * or one with a few hundred episodes under way, stays below it and never pays for compression (zlib was a tenth
 * of the CPU of an export that deflated 60 MB of lines of 858 episodes); an interleaved log of a year's
 * enrolment goes far above it (measured: 125 MB held for 5,812 episodes under way). kapkit default.
 */
export const DEFLATE_ABOVE_BYTES = 16 * 2 ** 20;

/**
 * zlib settings for a chunk: the fastest level, and a window and hash table no larger than a chunk needs
 * (about 32 KiB of zlib memory per call instead of the default 256 KiB, allocated and freed for every chunk),
 * and output buffers of a chunk's size rather than 16 KiB.
 */
const DEFLATE = { level: 1, windowBits: 12, memLevel: 6, chunkSize: 4096 } as const;
const INFLATE = { windowBits: 12, chunkSize: CHUNK_BYTES } as const;

/** A copy of `bytes` in memory of its own (a small Buffer may otherwise share, and keep alive, a larger one). */
function ownBytes(bytes: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}

/** The held lines of one episode: their numbers, and their text packed into a few chunks. */
export class PendingEpisode {
  readonly #lines: number[] = [];
  /** Per line: the chunk it is in and its byte range there. */
  readonly #where: number[] = [];
  readonly #chunks: Buffer[] = [];
  /** Whether each chunk is deflated. */
  readonly #deflated: boolean[] = [];
  #used = 0;
  #bytes = 0;

  constructor(readonly firstLine: number) {}

  /** Bytes of memory the held lines take (chunks, deflated or not). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Hold one line; `deflate`: deflate the last chunk if this line starts a new one. Returns how many bytes the
   * held lines grew by (negative when a deflated chunk gave back more than the line took).
   */
  add(line: number, text: string, deflate: boolean): number {
    const before = this.#bytes;
    const bytes = Buffer.byteLength(text, 'utf8');
    const last = this.#chunks.length - 1;
    let chunk = this.#chunks[last];
    if (chunk === undefined || this.#used + bytes > chunk.length) {
      if (chunk !== undefined && deflate) {
        const packed = ownBytes(deflateRawSync(chunk.subarray(0, this.#used), DEFLATE));
        this.#bytes += packed.length - chunk.length;
        this.#chunks[last] = packed;
        this.#deflated[last] = true;
      }
      // Outside the pool of small buffers: a held chunk never keeps a shared slab alive.
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
      this.#deflated.push(false);
      this.#used = 0;
    }
    chunk.write(text, this.#used, bytes, 'utf8');
    this.#lines.push(line);
    this.#where.push(this.#chunks.length - 1, this.#used, this.#used + bytes);
    this.#used += bytes;
    return this.#bytes - before;
  }

  /** The held lines in the order they were read, with their numbers. */
  *lines(): Generator<{ readonly line: number; readonly text: string }> {
    let open = -1;
    let chunk: Buffer | undefined;
    for (let i = 0; i < this.#lines.length; i++) {
      const k = this.#where[3 * i]!;
      if (k !== open) {
        open = k;
        chunk = this.#deflated[k] ? inflateRawSync(this.#chunks[k]!, INFLATE) : this.#chunks[k]!;
      }
      yield {
        line: this.#lines[i]!,
        text: chunk!.toString('utf8', this.#where[3 * i + 1], this.#where[3 * i + 2]),
      };
    }
  }
}
