import { randomBytes } from 'node:crypto';
import { lstat, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './io.js';

type FileHandle = Awaited<ReturnType<typeof open>>;

async function writeAll(handle: FileHandle, chunks: Iterable<string | Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (typeof chunk === 'string') await handle.write(chunk);
    else await handle.write(chunk);
  }
}

/**
 * Write `chunks` to the file `target`. A regular file (new or existing) is written atomically: a temporary
 * file in the same directory, flushed, then renamed over it, so readers never see half a file (half an NDJSON
 * export, half a PNG). A symbolic link is followed (the link stays). Anything else that already exists (a
 * device such as /dev/null, a FIFO) is written in place: renaming over it would replace it.
 *
 * @throws {CliError} `cannot write "<target>": <reason>`.
 */
export async function writeFileAtomically(
  target: string,
  chunks: Iterable<string | Uint8Array>,
): Promise<void> {
  const fail = (e: unknown) => new CliError(`cannot write "${target}": ${(e as Error).message}`);
  let path = target;
  let info = await lstat(path).catch(() => null);
  if (info?.isSymbolicLink()) {
    path = await realpath(target).catch(() => target);
    info = path === target ? null : await stat(path).catch(() => null);
  }
  if (info !== null && !info.isFile()) {
    const handle = await open(path, 'w').catch((e: unknown) => {
      throw fail(e);
    });
    try {
      await writeAll(handle, chunks);
    } catch (e) {
      throw fail(e);
    } finally {
      await handle.close().catch(() => {});
    }
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx').catch((e: unknown) => {
    throw fail(e);
  });
  try {
    await writeAll(handle, chunks);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw fail(e);
  }
}
