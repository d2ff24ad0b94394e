import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster owned by one test file, to restart or freeze without disturbing the
 * server the other tests share (the same recipe as scripts/with-postgres.sh: initdb as the postgres user
 * when running as root, trust authentication, listening on 127.0.0.1 only, removed at the end).
 */
export interface Cluster {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: the server dies at once, as in a crash (WAL recovery on the next start). */
  crash(): void;
  start(): void;
  /** SIGSTOP the postmaster and every backend: a frozen server (TCP connections stay open). */
  freeze(): void;
  thaw(): void;
  destroy(): void;
}

/** The newest PostgreSQL bin directory with initdb and pg_ctl, or null. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    return initdb ? initdb.slice(0, initdb.lastIndexOf('/')) : null;
  } catch {
    return null;
  }
}

/** Why a private cluster cannot be made here, or null. */
export function clusterUnavailable(): string | null {
  if (!postgresBin()) return 'PostgreSQL binaries (initdb, pg_ctl) are not installed';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      return "running as root and there is no 'postgres' user to own a cluster";
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startCluster(): Promise<Cluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kapkit-store-pg-cluster-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), -1);
  const run = (cmd: string, args: string[]) => {
    const argv = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    try {
      execFileSync(argv[0] as string, argv[1] as string[], { stdio: 'pipe', timeout: 120_000 });
    } catch (error) {
      const e = error as { stderr?: Buffer; stdout?: Buffer };
      const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
      throw new Error(`${cmd} failed: ${e.stderr ?? ''}${e.stdout ?? ''}\n${log}`);
    }
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir}`,
      '-w',
      '-t',
      '120',
      'start',
    ]);
  start();
  const pids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  let frozen: number[] = [];
  const thaw = () => {
    for (const pid of [...frozen].reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    frozen = [];
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    freeze() {
      frozen = pids();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
    destroy() {
      thaw();
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
