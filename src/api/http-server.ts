/**
 * The HTTP server around the koa app, with the limits a public service needs before any route runs:
 * time to send the headers, time to send the whole request (a slow upload is cut off and answered 408),
 * idle keep-alive time, and a cap on open connections per client address.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from './problem.js';

export interface HttpLimits {
  headersTimeoutMs: number;
  uploadTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionsPerAddress: number;
}

const OVER_CAP = Symbol('over connection cap');

function problemJson(status: number, code: string, title: string, detail: string): string {
  return JSON.stringify({ type: `${PROBLEM_BASE}${code}`, title, status, detail });
}

/** A whole response written straight to a socket the HTTP parser gave up on. */
function rawProblem(status: number, reason: string, body: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export function createHttpServer(listener: RequestListener, limits: HttpLimits): Server {
  const server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.uploadTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node looks for overdue requests on this beat (30 s by default): a limit of seconds needs a finer one.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4, limits.uploadTimeoutMs / 4)),
  }, (req: IncomingMessage, res: ServerResponse) => {
    if ((req.socket as Socket & { [OVER_CAP]?: boolean })[OVER_CAP]) {
      const body = problemJson(503, 'too-many-connections', 'Service unavailable',
        `Too many open connections from ${req.socket.remoteAddress}; at most ${limits.connectionsPerAddress} at a time. Close idle ones, or reuse them.`);
      res.writeHead(503, { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Retry-After': '1', Connection: 'close' });
      res.end(body);
      return;
    }
    listener(req, res);
  });

  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.connectionsPerAddress) {
      // Accepted only to be told why, then closed: it never reaches the app.
      (socket as Socket & { [OVER_CAP]?: boolean })[OVER_CAP] = true;
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already under way cannot be followed by another one on the same socket.
    if (!socket.writable || (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) return socket.destroy();
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    const body = timedOut
      ? problemJson(408, 'request-too-slow', 'Request timeout',
        `The request was not received in time (headers within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.uploadTimeoutMs / 1000} s); nothing was done.`)
      : problemJson(400, 'malformed-http', 'Bad request', 'The request is not well-formed HTTP.');
    socket.end(rawProblem(timedOut ? 408 : 400, timedOut ? 'Request Timeout' : 'Bad Request', body), () => socket.destroy());
  });
  return server;
}
