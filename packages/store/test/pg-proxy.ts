import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy between the store and a PostgreSQL server, on 127.0.0.1, that reads the frontend protocol
 * (the messages the client sends) to fail a connection at an exact point:
 *
 * - `dropOnQuery(pattern, 'before')`: when the client sends a statement matching `pattern`, close both
 *   sides without forwarding it (the server never sees it);
 * - `dropOnQuery(pattern, 'after-reply')`: forward it, and close both sides when the server's answer comes
 *   back, before the client gets it (for COMMIT: committed, acknowledgement lost);
 * - `freeze()`: stop forwarding in both directions and leave every socket open (a frozen server, or a
 *   network that drops everything); new connections are accepted and never answered.
 */
export class PgProxy {
  readonly #upstreamPort: number;
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket | null }>();
  #frozen = false;
  #trap: { pattern: RegExp; when: 'before' | 'after-reply'; once: boolean } | null = null;
  /** Connections closed by a trap. */
  dropped = 0;
  port = 0;

  private constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(upstreamPort: number): Promise<PgProxy> {
    const proxy = new PgProxy(upstreamPort);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  /** A connection URL through the proxy, from the server's URL. */
  url(serverUrl: string, params: Record<string, string> = {}): string {
    const u = new URL(serverUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  dropOnQuery(pattern: RegExp, when: 'before' | 'after-reply', once = true): void {
    this.#trap = { pattern, when, once };
  }

  freeze(): void {
    this.#frozen = true;
  }

  thaw(): void {
    this.#frozen = false;
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const pair: { client: Socket; upstream: Socket | null } = { client, upstream: null };
    this.#pairs.add(pair);
    const end = () => {
      client.destroy();
      pair.upstream?.destroy();
      this.#pairs.delete(pair);
    };
    client.on('error', end);
    client.on('close', end);
    if (this.#frozen) return; // accepted by the kernel, never answered
    const upstream = tcpConnect(this.#upstreamPort, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', end);
    upstream.on('close', end);
    let buffer = Buffer.alloc(0);
    let started = false;
    let dropOnReply = false;
    client.on('data', (chunk: Buffer) => {
      if (this.#frozen) return;
      buffer = Buffer.concat([buffer, chunk]);
      // Frontend messages: the start-up message is a length-prefixed packet; every later one is a type byte
      // followed by a length that counts itself.
      for (;;) {
        const headerLength = started ? 5 : 4;
        if (buffer.length < headerLength) return;
        const length = buffer.readInt32BE(started ? 1 : 0);
        const total = (started ? 1 : 0) + length;
        if (buffer.length < total) return;
        const message = buffer.subarray(0, total);
        buffer = buffer.subarray(total);
        if (!started) {
          started = true;
          upstream.write(message);
          continue;
        }
        const type = String.fromCharCode(message[0]!);
        // 'Q' simple query: the SQL text; 'P' parse: a statement name, then the SQL text.
        let sql = '';
        if (type === 'Q') sql = message.subarray(5).toString('utf8').replace(/\0$/, '');
        else if (type === 'P') {
          const body = message.subarray(5);
          const nameEnd = body.indexOf(0);
          sql = body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8');
        }
        const trap = this.#trap;
        if (sql && trap?.pattern.test(sql)) {
          if (trap.once) this.#trap = null;
          if (trap.when === 'before') {
            this.dropped++;
            end();
            return;
          }
          dropOnReply = true;
        }
        upstream.write(message);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.#frozen) return;
      if (dropOnReply) {
        this.dropped++;
        end();
        return;
      }
      client.write(chunk);
    });
  }
}

/**
 * A server that accepts TCP connections and never answers: what a client sees of a frozen PostgreSQL
 * (the kernel completes the handshake into the listen backlog; the stopped postmaster never reads).
 */
export async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
