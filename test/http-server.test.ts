/**
 * The HTTP server's own limits, on a real socket with a trivial app behind it: headers that trickle
 * in are cut with 408 problem+json, an idle keep-alive connection is closed by the server, and one
 * address cannot hold more than its share of connections.
 */
import { once } from 'node:events';
import { request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/api/http-server.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function start(limits: Partial<Parameters<typeof createHttpServer>[1]> = {}): Promise<number> {
  server = createHttpServer((_req, res) => res.end('ok'), {
    headersTimeoutMs: 1000, uploadTimeoutMs: 2000, keepAliveTimeoutMs: 1000, connectionsPerAddress: 100, ...limits,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function rawSocket(port: number): { socket: Socket; text: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, text: () => text, closed: new Promise((resolve) => socket.on('close', () => resolve())) };
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP server limits', () => {
  it('answers headers that never finish with 408 problem+json and closes the connection', async () => {
    const port = await start();
    const c = rawSocket(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => c.socket.writable && c.socket.write('X-A: b\r\n'), 100);
    await c.closed;
    clearInterval(trickle);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(c.text()).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(c.text().split('\r\n\r\n')[1]!)).toMatchObject({ status: 408, type: 'https://oneseal.dev/problems/request-too-slow' });
  });

  it('closes an idle keep-alive connection after the keep-alive time-out', async () => {
    const port = await start();
    const c = rawSocket(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await c.closed; // the client never closes it: only the server's idle time-out can end this wait
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('refuses connections from one address beyond its cap with 503 problem+json, and takes them again once one closes', async () => {
    const port = await start({ connectionsPerAddress: 3, keepAliveTimeoutMs: 60_000, headersTimeoutMs: 60_000, uploadTimeoutMs: 60_000 });
    const held = [rawSocket(port), rawSocket(port), rawSocket(port)];
    await Promise.all(held.map((h) => once(h.socket, 'connect')));
    // The server counts a connection when it accepts it; ours are accepted once it reports three.
    await waitForConnections(3);
    const over = await get(port);
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body)).toMatchObject({ status: 503, type: 'https://oneseal.dev/problems/too-many-connections' });

    held[0]!.socket.destroy();
    await waitForConnections(2);
    expect((await get(port)).status).toBe(200);
    for (const h of held) h.socket.destroy();
  });
});

async function waitForConnections(n: number): Promise<void> {
  for (;;) {
    const count = await new Promise<number>((resolve, reject) => server!.getConnections((e, c) => (e ? reject(e) : resolve(c))));
    if (count === n) return;
    await new Promise((r) => setImmediate(r));
  }
}
