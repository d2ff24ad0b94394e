import { close as fsClose, write as fsWrite, fsync } from 'node:fs';
import { rm } from 'node:fs/promises';

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
export function syncAndClose(fd: number): Promise<void> {
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
export async function discardFile(fd: number | null, path: string): Promise<void> {
  if (fd !== null) await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
  await rm(path, { force: true });
}
