import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createCa } from '../webhook/certs.ts';
import { apiClient, closeConnections, pooledAuthentication } from './pool.ts';

/**
 * A real HTTPS server on loopback standing in for the API server's transport: it answers every request with a
 * Namespace, counts TLS connections and requests per connection, and can be told to drop the next request on
 * a reused connection without answering (what a pooled socket meets after an API server restart).
 */
let server: Server;
let port = 0;
let connections = 0;
const requests: { method: string; connection: number; nth: number; authorization?: string | undefined }[] = [];
let dropNextReused = false;
const sockets = new Set<Socket>();

before(async () => {
  const { certPem, keyPem } = await createCa(3_600_000);
  server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const sock = req.socket as Socket & { id?: number; served?: number };
    sock.served = (sock.served ?? 0) + 1;
    requests.push({ method: req.method ?? '', connection: sock.id ?? 0, nth: sock.served, authorization: req.headers.authorization });
    if (dropNextReused && sock.served > 1) {
      dropNextReused = false;
      sock.destroy();
      return;
    }
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } }));
    });
  });
  server.on('secureConnection', (s: Socket & { id?: number }) => {
    s.id = ++connections;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function kubeConfig(user: { token?: string; certData?: string; keyData?: string } = { token: 't' }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

/**
 * One request, then a pause so its connection is back in the pool before the next (undici releases a socket a
 * few ticks after the response ends; back-to-back requests would alternate between two connections).
 */
async function paced<T>(p: Promise<T>): Promise<T> {
  const out = await p;
  await sleep(20);
  return out;
}

function reset(): void {
  connections = 0;
  requests.length = 0;
  dropNextReused = false;
}

void test('the client library alone opens a TLS connection per request; apiClient reuses one keep-alive connection', async () => {
  reset();
  const kc = kubeConfig();
  const plain = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 5; i++) await plain.readNamespace({ name: 'n' });
  assert.equal(connections, 5, 'library default: one connection per request');

  reset();
  const pooled = apiClient(kc, CoreV1Api);
  const other = apiClient(kc, CoreV1Api);
  for (let i = 0; i < 5; i++) await paced(pooled.readNamespace({ name: 'n' }));
  await paced(other.readNamespace({ name: 'n' }));
  assert.equal(connections, 1, 'every client of one KubeConfig shares the pool');
  assert.deepEqual(requests.map((r) => r.nth), [1, 2, 3, 4, 5, 6]);
  await closeConnections(kc);
});

void test('a GET that meets a dead pooled socket is retried once on a fresh connection', async () => {
  reset();
  const kc = kubeConfig();
  const api = apiClient(kc, CoreV1Api);
  await paced(api.readNamespace({ name: 'n' }));
  dropNextReused = true;
  const ns = await api.readNamespace({ name: 'n' });
  assert.equal(ns.metadata?.name, 'n');
  assert.deepEqual(requests.map((r) => [r.method, r.connection, r.nth]), [['GET', 1, 1], ['GET', 1, 2], ['GET', 2, 1]]);
  await closeConnections(kc);
});

void test('a write that meets a dead pooled socket is not replayed: its error goes to the caller', async () => {
  reset();
  const kc = kubeConfig();
  const api = apiClient(kc, CoreV1Api);
  await paced(api.readNamespace({ name: 'n' }));
  dropNextReused = true;
  await assert.rejects(api.patchNamespace({ name: 'n', body: { metadata: { labels: { a: 'b' } } } }));
  assert.deepEqual(requests.map((r) => r.method), ['GET', 'PATCH'], 'the PATCH was sent once');
  // The pool recovers: the next request gets a fresh connection.
  await api.readNamespace({ name: 'n' });
  assert.equal(connections, 2);
  await closeConnections(kc);
});

void test('a rotated client certificate is a new identity with its own pool; a rotated token is not', async () => {
  reset();
  const a = await createCa(3_600_000);
  const b = await createCa(3_600_000);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const kc = kubeConfig({ certData: b64(a.certPem), keyData: b64(a.keyPem) });
  const api = apiClient(kc, CoreV1Api);
  await paced(api.readNamespace({ name: 'n' }));
  await paced(api.readNamespace({ name: 'n' }));
  const user = kc.getCurrentUser() as { certData?: string; keyData?: string; token?: string };
  user.certData = b64(b.certPem);
  user.keyData = b64(b.keyPem);
  await api.readNamespace({ name: 'n' });
  assert.equal(connections, 2, 'the new certificate got a new connection');
  assert.equal(pooledAuthentication(kc).pools.size, 2);
  await closeConnections(kc);

  reset();
  const tk = kubeConfig({ token: 'one' });
  const tapi = apiClient(tk, CoreV1Api);
  await paced(tapi.readNamespace({ name: 'n' }));
  (tk.getCurrentUser() as { token?: string }).token = 'two';
  await tapi.readNamespace({ name: 'n' });
  assert.equal(connections, 1, 'a token is a header: same pool');
  assert.deepEqual(requests.map((r) => r.authorization), ['Bearer one', 'Bearer two'], 'each request carries the current token');
  await closeConnections(tk);
});
