import { close as fsClose, write as fsWrite, fsync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { KapkitError } from '@kapkit/core';

/* Positional file output shared by the Parquet and FHIR writers (they write a file descriptor in order). */

/** Write all of `bytes` at `position`, looping over short writes. */
export function writeAt(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= bytes.length) {
        resolve();
        return;
      }
      fsWrite(fd, bytes, done, bytes.length - done, position + done, (error, written) => {
        if (error) reject(error);
        else step(done + written);
      });
    };
    step(0);
  });
}

/** Flush the file to the disk, then close it (the first error wins). */
function syncAndClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (syncError) => {
      fsClose(fd, (closeError) => {
        const error = syncError ?? closeError;
        if (error) reject(error);
        else resolve();
      });
    });
  });
}

/** Close `fd` when it is still open (ignoring errors: the file is being given up), then delete `path`. */
async function discardFile(fd: number | null, path: string): Promise<void> {
  if (fd !== null) await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
  await rm(path, { force: true });
}

/** Where a writer of {@link OrderedFileWrites} stands. */
export type WriterState = 'open' | 'closing' | 'closed' | 'aborted' | 'failed';

/**
 * The file side of a streaming writer (Parquet, FHIR): its descriptor, its state, the first failure, and a
 * queue that runs its file operations strictly in order. A queued operation does not run after a failure
 * (it rejects with that failure) or after `abort()`.
 */
export class OrderedFileWrites {
  state: WriterState = 'open';
  failure: unknown;
  #tail: Promise<void> = Promise.resolve();
  #fdOpen = true;

  /** `what`: the writer's name in messages (e.g. `Parquet`); `items`: what it takes (e.g. `rows can be written`). */
  constructor(
    readonly fd: number,
    readonly path: string,
    private readonly what: string,
    private readonly items: string,
  ) {}

  /** Queue a file operation after the ones already queued; a failure is also kept as `failure`. */
  enqueue(job: () => Promise<void> | void): Promise<void> {
    const run = this.#tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
      if (this.state === 'aborted')
        throw new KapkitError('writer-aborted', `${this.what} writer for ${this.path} was aborted.`);
      return job();
    });
    this.#tail = run.catch((error: unknown) => {
      this.failure ??= error;
    });
    return run;
  }

  /** Resolves once every queued operation has run (never rejects). */
  settled(): Promise<void> {
    return this.#tail;
  }

  /** Throw unless the writer is open and nothing has failed. */
  refuseIfNotOpen(): void {
    if (this.state === 'open' && this.failure === undefined) return;
    throw new KapkitError(
      'writer-closed',
      `${this.what} writer for ${this.path} is ${this.failure === undefined ? this.state : 'failed'}; no more ${this.items}.`,
      this.failure === undefined ? undefined : { cause: this.failure },
    );
  }

  /** Flush the file to the disk and close it. */
  syncAndClose(): Promise<void> {
    this.#fdOpen = false;
    return syncAndClose(this.fd);
  }

  /** Stop: wait for the queued operations, close the file if still open and delete it. Nothing after a close. */
  async abort(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.#tail;
    const open = this.#fdOpen ? this.fd : null;
    this.#fdOpen = false;
    await discardFile(open, this.path);
  }
}
