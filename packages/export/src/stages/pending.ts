/*
 * The lines of the episodes under way, held as UTF-8 bytes until each episode's last line has been read (an
 * export folds and writes an episode in one go then). Bytes rather than parsed events or machine states: a
 * line takes about a quarter of the memory of the event it parses to and less than the episode state it would
 * grow, and it lives outside the JavaScript heap, so thousands of episodes under way in an interleaved log
 * neither fill the heap nor keep the garbage collector busy.
 */

/** Bytes of a new chunk (a longer line gets a chunk of its own length). */
const CHUNK_BYTES = 4096;

/** The held lines of one episode: their numbers, and their text packed into a few chunks. */
export class PendingEpisode {
  readonly #lines: number[] = [];
  /** Per line: the chunk it is in and its byte range there. */
  readonly #where: number[] = [];
  readonly #chunks: Buffer[] = [];
  #used = 0;

  constructor(readonly firstLine: number) {}

  /** Hold one line. */
  add(line: number, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    let chunk = this.#chunks[this.#chunks.length - 1];
    if (chunk === undefined || this.#used + bytes > chunk.length) {
      // Outside the pool of small buffers: a held chunk never keeps a shared slab alive.
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
      this.#chunks.push(chunk);
      this.#used = 0;
    }
    chunk.write(text, this.#used, bytes, 'utf8');
    this.#lines.push(line);
    this.#where.push(this.#chunks.length - 1, this.#used, this.#used + bytes);
    this.#used += bytes;
  }

  /** The held lines in the order they were read, with their numbers. */
  *lines(): Generator<{ readonly line: number; readonly text: string }> {
    for (let i = 0; i < this.#lines.length; i++) {
      const chunk = this.#chunks[this.#where[3 * i]!]!;
      yield {
        line: this.#lines[i]!,
        text: chunk.toString('utf8', this.#where[3 * i + 1], this.#where[3 * i + 2]),
      };
    }
  }
}
