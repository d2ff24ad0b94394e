import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Size and SHA-256 of a finished file. */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * A temporary name next to `finalPath` (same directory, so the final rename is atomic on POSIX file systems):
 * `.<name>.<pid>-<random>.kapkit-tmp`. Hidden, so a half-written file is never mistaken for a table.
 */
function tempPathFor(finalPath: string): string {
  return join(
    dirname(finalPath),
    `.${basename(finalPath)}.${process.pid}-${randomBytes(6).toString('hex')}.kapkit-tmp`,
  );
}

/** Whether a file name is one of kapkit's temporary files. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.kapkit-tmp');
}

/** SHA-256 and size of a file, read as a stream. */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const FLUSH_AT = 1 << 16;

/**
 * A file put in place atomically: written under a temporary name next to its final one (see `tempPathFor`),
 * then `close()`d, then `commit()`ted (renamed to its final name) or `abort()`ed (removed). The one helper every
 * export writer uses: the text writers through {@link AtomicTextFile}, the Parquet and FHIR writers, which
 * write the temporary path themselves, through this class directly (their digest is read back from the file).
 */
export class AtomicFile {
  readonly tempPath: string;
  #state: 'open' | 'closed' | 'committed' | 'aborted' = 'open';

  constructor(readonly finalPath: string) {
    this.tempPath = tempPathFor(finalPath);
  }

  /** Mark the file complete; its size and SHA-256. */
  async close(): Promise<FileDigest> {
    this.#state = 'closed';
    return digestFile(this.tempPath);
  }

  protected markClosed(): void {
    this.#state = 'closed';
  }

  /** Rename the closed temporary file to its final name. */
  async commit(): Promise<void> {
    if (this.#state !== 'closed') throw new Error(`commit() of a file that is ${this.#state}, not closed`);
    await rename(this.tempPath, this.finalPath);
    this.#state = 'committed';
  }

  /** Remove the temporary file. Never throws. */
  async abort(): Promise<void> {
    this.#state = 'aborted';
    await rm(this.tempPath, { force: true }).catch(() => {});
  }
}

/**
 * A text file written under a temporary name, hashed as it is written, renamed to its final name only by
 * `commit()` after `close()`. `abort()` removes the temporary file. Writes are buffered (64 KiB) and wait for
 * the stream to drain, so memory stays flat whatever is written.
 */
export class AtomicTextFile extends AtomicFile {
  readonly #stream: WriteStream;
  readonly #hash = createHash('sha256');
  #buffer = '';
  #bytes = 0;
  #error: Error | null = null;

  constructor(finalPath: string) {
    super(finalPath);
    this.#stream = createWriteStream(this.tempPath, { flags: 'wx' });
    this.#stream.on('error', (e) => {
      this.#error ??= e;
    });
  }

  /** Append text (UTF-8). */
  async write(text: string): Promise<void> {
    if (this.#error) throw this.#error;
    this.#buffer += text;
    if (this.#buffer.length >= FLUSH_AT) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return;
    const chunk = Buffer.from(this.#buffer, 'utf8');
    this.#buffer = '';
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    if (!this.#stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: Error) => {
          this.#stream.off('drain', onDrain);
          this.#stream.off('error', onError);
          if (e) reject(e);
          else resolve();
        };
        const onDrain = () => done();
        const onError = (e: Error) => done(e);
        this.#stream.once('drain', onDrain);
        this.#stream.once('error', onError);
      });
    }
    if (this.#error) throw this.#error;
  }

  /** Flush and close the temporary file; returns its size and SHA-256 (hashed as it was written). */
  override async close(): Promise<FileDigest> {
    await this.#flush();
    this.markClosed();
    if (this.#error) throw this.#error;
    // Wait for 'close' (not just 'finish'): the descriptor is released before the file is renamed.
    await new Promise<void>((resolve) => {
      this.#stream.once('close', () => resolve());
      this.#stream.end();
    });
    if (this.#error) throw this.#error;
    return { bytes: this.#bytes, sha256: this.#hash.digest('hex') };
  }

  /** Stop writing and remove the temporary file. Never throws. */
  override async abort(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.#stream.closed || this.#stream.destroyed) resolve();
      else {
        this.#stream.once('close', () => resolve());
        this.#stream.destroy();
      }
    });
    await super.abort();
  }
}
