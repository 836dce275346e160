import net from 'node:net';

/*
 * A TCP proxy in front of the run's Postgres for a process under test (its DATABASE_URL points
 * here). It reads the frontend side of the wire protocol just enough to know each connection's
 * `application_name` (from the startup message) and to count the statements it runs (Execute
 * and simple Query messages), and it can freeze connections: stop passing bytes either way while
 * both sockets stay open, as a half-open connection after a failover does. Plain TCP only (node-pg
 * sends no SSLRequest unless asked to).
 */
export interface PgWireProxy {
  url: string;
  /** Statements run so far by connections of `applicationName`. */
  statements(applicationName: string): number;
  /** Freezes the connections of `applicationName` open now; returns how many. Later ones pass. */
  freeze(applicationName: string): number;
  /** Connections of `applicationName` open now (frozen ones included). */
  connections(applicationName: string): number;
  /** The client-side ports of those connections (the process under test's end). */
  clientPorts(applicationName: string): number[];
  stop(): Promise<void>;
}

interface Tunnel {
  applicationName: string | undefined;
  frozen: boolean;
  client: net.Socket;
  server: net.Socket;
}

/** The `application_name` of a startup message (after its length and protocol version). */
function applicationNameOf(startup: Buffer): string | undefined {
  const fields = startup.subarray(8).toString('utf8').split('\u0000');
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'application_name') return fields[i + 1];
  return undefined;
}

export async function startPgWireProxy(upstreamUrl: string): Promise<PgWireProxy> {
  const upstream = new URL(upstreamUrl);
  const tunnels = new Set<Tunnel>();
  const counts = new Map<string, number>();
  const leftovers = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const tunnel: Tunnel = {
      applicationName: undefined,
      frozen: false,
      client,
      server: net.connect(Number(upstream.port), upstream.hostname),
    };
    tunnels.add(tunnel);
    let pending = Buffer.alloc(0);
    let started = false;
    const count = () => {
      const name = tunnel.applicationName ?? '';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    };
    client.on('data', (chunk: Buffer) => {
      if (tunnel.frozen) return;
      tunnel.server.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          if (pending.length < 4) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          tunnel.applicationName = applicationNameOf(pending.subarray(0, length));
          pending = pending.subarray(length);
          started = true;
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) break;
        const type = String.fromCharCode(pending[0]!);
        if (type === 'E' || type === 'Q') count();
        pending = pending.subarray(1 + length);
      }
    });
    tunnel.server.on('data', (chunk: Buffer) => {
      if (!tunnel.frozen) client.write(chunk);
    });
    // A frozen tunnel passes nothing on, not even a close: the far side never learns.
    const close = () => {
      tunnels.delete(tunnel);
      if (tunnel.frozen) {
        leftovers.add(client);
        leftovers.add(tunnel.server);
        return;
      }
      client.destroy();
      tunnel.server.destroy();
    };
    for (const socket of [client, tunnel.server]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const named = (applicationName: string) => [...tunnels].filter((t) => t.applicationName === applicationName);
  return {
    url: url.toString(),
    statements: (applicationName) => counts.get(applicationName) ?? 0,
    freeze(applicationName) {
      const frozen = named(applicationName);
      for (const tunnel of frozen) tunnel.frozen = true;
      return frozen.length;
    },
    connections: (applicationName) => named(applicationName).length,
    clientPorts: (applicationName) => named(applicationName).map((t) => t.client.remotePort!),
    async stop() {
      for (const tunnel of tunnels) {
        tunnel.client.destroy();
        tunnel.server.destroy();
      }
      for (const socket of leftovers) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
