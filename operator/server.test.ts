import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from './server.ts';
import { createMetrics } from './metrics.ts';

async function withServer(fn: (base: string, s: Awaited<ReturnType<typeof startServer>>) => Promise<void>, stall?: { maxEventLoopStallMs: number; heartbeatMs: number }): Promise<void> {
  const m = createMetrics({ defaultMetrics: false });
  m.leader.set(1);
  const s = await startServer({ port: 0, host: '127.0.0.1', registry: m.registry, ...stall });
  try {
    await fn(`http://127.0.0.1:${s.port}`, s);
  } finally {
    await s.close();
  }
}

void test('healthz answers 200 while alive', () => withServer(async (base) => {
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok\n');
}));

void test('readyz is 503 until setReady(true), and follows setReady(false)', () => withServer(async (base, s) => {
  assert.equal((await fetch(`${base}/readyz`)).status, 503);
  s.setReady(true);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz?verbose=1`)).status, 200);
  s.setReady(false);
  assert.equal((await fetch(`${base}/readyz`)).status, 503);
}));

void test('metrics exposes the registry with the Prometheus content type', () => withServer(async (base) => {
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(await r.text(), /^cra_gate_leader 1$/m);
}));

void test('unknown paths 404, other methods 405, HEAD has no body', () => withServer(async (base) => {
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  const p = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(p.status, 405);
  assert.equal(p.headers.get('allow'), 'GET, HEAD');
  const h = await fetch(`${base}/healthz`, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(await h.text(), '');
}));

void test('liveness checks can fail healthz', () => withServer(async (base, s) => {
  let ok: boolean | string = true;
  s.addLivenessCheck('watch', () => ok);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  ok = 'no event for 10m';
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 503);
  assert.match(await r.text(), /watch: no event for 10m/);
  s.addLivenessCheck('watch', () => { throw new Error('oops'); });
  assert.match(await (await fetch(`${base}/healthz`)).text(), /watch: threw: oops/);
}));

void test('a blocked event loop is reported by healthz', () => withServer(async (base) => {
  const end = Date.now() + 450;
  while (Date.now() < end) { /* block the loop */ }
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 503);
  assert.match(await r.text(), /event loop stalled/);
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'recovers once the loop runs again');
}, { maxEventLoopStallMs: 200, heartbeatMs: 50 }));

void test('close is idempotent and frees the port', async () => {
  const m = createMetrics({ defaultMetrics: false });
  const s = await startServer({ port: 0, host: '127.0.0.1', registry: m.registry });
  await Promise.all([s.close(), s.close()]);
  await assert.rejects(fetch(`http://127.0.0.1:${s.port}/healthz`));
});

void test('listen errors reject', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const m = createMetrics({ defaultMetrics: false });
  await assert.rejects(startServer({ port, host: '127.0.0.1', registry: m.registry }), /EADDRINUSE/);
  await new Promise((r) => blocker.close(r));
});
