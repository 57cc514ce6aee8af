import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { shareConnections, sharesConnections } from './connections.ts';

function kubeConfig(caData: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(caData).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

void test('without sharing, the client library builds a new dispatcher (connection pool) for every request', async () => {
  const kc = kubeConfig('ca-1');
  const a = await dispatcherOf(kc);
  assert.ok(a, 'a TLS dispatcher is built');
  assert.notEqual(await dispatcherOf(kc), a);
});

void test('shareConnections: every request of a KubeConfig uses one dispatcher', async () => {
  const kc = shareConnections(kubeConfig('ca-1'));
  assert.equal(sharesConnections(kc), true, 'the library still builds dispatchers where this wraps');
  const a = await dispatcherOf(kc);
  assert.ok(a);
  for (let i = 0; i < 5; i++) assert.equal(await dispatcherOf(kc), a);
  assert.equal(shareConnections(kc), kc, 'idempotent');
  assert.equal(await dispatcherOf(kc), a);
});

void test('shareConnections: other TLS material (a rotated certificate or CA) gets its own pool; the oldest beyond four is closed', async () => {
  const kc = shareConnections(kubeConfig('ca-1'));
  const first = (await dispatcherOf(kc)) as { closed?: boolean };
  assert.equal(first.closed, false);
  const cluster = kc.getCurrentCluster()!;
  for (let i = 2; i <= 5; i++) {
    (cluster as { caData?: string }).caData = Buffer.from(`ca-${i}`).toString('base64');
    const d = await dispatcherOf(kc);
    assert.notEqual(d, first, `ca-${i} has its own pool`);
    assert.equal(await dispatcherOf(kc), d, `ca-${i} reuses its pool`);
  }
  assert.equal(first.closed, true, 'the oldest pool was closed');
});
