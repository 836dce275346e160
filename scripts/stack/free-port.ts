import net from 'node:net';

/*
 * Ports handed to another process are picked below Linux's ephemeral range (32768–60999 by
 * default): a port there that is free now can become the local end of any outgoing connection
 * before the child binds it. Under load that happened (a CI run: EADDRINUSE for the secondary
 * payment simulator's port, taken between the pick and the listen).
 */
const LOW_PORTS = { from: 20_000, to: 32_767 };

/** A port below the ephemeral range that is free right now on 127.0.0.1. */
export async function freePort(taken: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW_PORTS.from + Math.floor(Math.random() * (LOW_PORTS.to - LOW_PORTS.from + 1));
    if (!taken.includes(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port found in ${LOW_PORTS.from}–${LOW_PORTS.to}`);
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports that are all free right now (for launchers that number ports PORT + i). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    if (first + count > LOW_PORTS.to + 1) continue;
    let free = true;
    for (let i = 1; i < count && free; i++) free = await canListen(first + i);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
