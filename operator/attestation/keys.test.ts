import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { loadDecisionKeys, newKeySecret } from './keys.ts';

/** A loopback stand-in for the apiserver's Secret endpoint: unavailable for the first `failures` requests. */
async function secretServer(failures: number): Promise<{ kc: KubeConfig; requests: () => number; close: () => Promise<void> }> {
  const secret = newKeySecret('ops', 'cra-gate-decision-key');
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    n++;
    if (n <= failures) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 503, message: 'etcd unavailable' }));
      return;
    }
    assert.equal(req.url, '/api/v1/namespaces/ops/secrets/cra-gate-decision-key');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(secret));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, requests: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

const quiet = { info: () => undefined, error: () => undefined };

describe('loadDecisionKeys', () => {
  it('keeps retrying (capped backoff) until the key loads: a replica started while the apiserver is down does not run keyless', async () => {
    const api = await secretServer(7);
    const sleeps: number[] = [];
    try {
      const keys = await loadDecisionKeys(api.kc, 'ops', 'cra-gate-decision-key', quiet, { maxDelayMs: 8000, sleep: (ms) => { sleeps.push(ms); return Promise.resolve(); } });
      assert.ok(keys?.signing.keyid, 'the key loaded after the apiserver came back');
      assert.equal(api.requests(), 8);
      assert.deepEqual(sleeps, [1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    } finally {
      await api.close();
    }
  });

  it('gives up only when told: a bounded number of attempts, or an aborted signal', async () => {
    const api = await secretServer(1000);
    try {
      assert.equal(await loadDecisionKeys(api.kc, 'ops', 'cra-gate-decision-key', quiet, { attempts: 3, sleep: () => Promise.resolve() }), undefined);
      assert.equal(api.requests(), 3);
      const ac = new AbortController();
      const keys = await loadDecisionKeys(api.kc, 'ops', 'cra-gate-decision-key', quiet, {
        signal: ac.signal,
        sleep: () => {
          if (api.requests() >= 5) ac.abort();
          return Promise.resolve();
        },
      });
      assert.equal(keys, undefined);
      assert.equal(api.requests(), 5);
    } finally {
      await api.close();
    }
  });
});
