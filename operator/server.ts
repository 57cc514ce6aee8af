/**
 * The operator's small HTTP server: `/healthz` (liveness), `/readyz` (readiness), `/metrics` (Prometheus).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** A liveness check: returns true (healthy) or false / a string describing the problem. */
export type LivenessCheck = () => boolean | string;

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to bind (default `0.0.0.0`; tests use `127.0.0.1`). */
  host?: string;
  /** Registry exposed on `/metrics`. */
  registry: Registry;
  /** Logger for server errors (optional). */
  log?: Logger;
  /**
   * `/healthz` fails when the event loop has not ticked for this long (default 10 s): a heartbeat timer
   * records its last run, so a loop that was blocked reports unhealthy on the next probe.
   */
  maxEventLoopStallMs?: number;
  /** Heartbeat period of the event-loop check (default 1000 ms). */
  heartbeatMs?: number;
}

/** A running server. */
export interface RunningServer {
  /** The port actually bound. */
  readonly port: number;
  /** Sets readiness: `/readyz` answers 200 only while true (set after the first list, unset on shutdown). */
  setReady(ready: boolean): void;
  /** Registers (or replaces) a named liveness check consulted by `/healthz`, e.g. a watch watchdog. */
  addLivenessCheck(name: string, check: LivenessCheck): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Starts the health/metrics server and resolves once it listens. */
export function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { registry, log } = opts;
  const maxStall = opts.maxEventLoopStallMs ?? 10_000;
  const HEARTBEAT_MS = opts.heartbeatMs ?? 1000;
  let ready = false;
  const checks = new Map<string, LivenessCheck>();

  // Event-loop heartbeat. The probe is answered in the poll phase; if the loop was blocked for longer than
  // maxStall, the gap between two heartbeats shows it (the heartbeat timer itself also ran late).
  let lastBeat = performance.now();
  let worstGap = 0;
  const heartbeat = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - lastBeat - HEARTBEAT_MS);
    lastBeat = now;
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const text = (res: ServerResponse, status: number, body: string, head = false): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      text(res, 405, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
      case '/livez': {
        const problems: string[] = [];
        const gap = Math.max(worstGap, performance.now() - lastBeat - HEARTBEAT_MS);
        worstGap = 0;
        if (gap > maxStall) problems.push(`event loop stalled for ${Math.round(gap)} ms`);
        for (const [name, check] of checks) {
          let r: boolean | string;
          try {
            r = check();
          } catch (err) {
            r = `threw: ${(err as Error)?.message ?? String(err)}`;
          }
          if (r !== true) problems.push(`${name}: ${typeof r === 'string' ? r : 'failed'}`);
        }
        if (problems.length) {
          log?.warn({ problems }, 'liveness check failed');
          text(res, 503, problems.join('\n') + '\n', head);
        } else {
          text(res, 200, 'ok\n', head);
        }
        return;
      }
      case '/readyz':
        if (ready) text(res, 200, 'ok\n', head);
        else text(res, 503, 'not ready\n', head);
        return;
      case '/metrics': {
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(head ? undefined : body);
        return;
      }
      default:
        text(res, 404, 'not found\n', head);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err, path: req.url }, 'health server request failed');
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return new Promise<RunningServer>((resolve, reject) => {
    const onError = (err: Error): void => {
      clearInterval(heartbeat);
      reject(err);
    };
    server.once('error', onError);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', onError);
      server.on('error', (err) => log?.error({ err }, 'health server error'));
      const port = (server.address() as AddressInfo).port;
      log?.info({ port, host: opts.host ?? '0.0.0.0' }, 'health and metrics server listening');
      let closed: Promise<void> | undefined;
      resolve({
        port,
        setReady(b) {
          if (b !== ready) log?.info({ ready: b }, 'readiness changed');
          ready = b;
        },
        addLivenessCheck(name, check) {
          checks.set(name, check);
        },
        close() {
          closed ??= new Promise<void>((res) => {
            clearInterval(heartbeat);
            ready = false;
            server.close(() => res());
            server.closeAllConnections();
          });
          return closed;
        },
      });
    });
  });
}
