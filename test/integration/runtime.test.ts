/**
 * Controller runtime semantics on a real kube-apiserver with the operator process (issue 15):
 *
 *  - level-triggered evidence: editing a feed ConfigMap or an SBOM ConfigMap re-evaluates the releases that read
 *    it within seconds (no periodic feed refresh, no re-list);
 *  - status is written with server-side apply: fixing the vulnerability removes `exploited`, the Art. 14 gauges go
 *    to zero, and the settled release is not reconciled again (counted over a window: zero reconciles, same
 *    resourceVersion);
 *  - error policy: a 403 on the status write is terminal for the object version — one attempt, a Warning Event
 *    naming the cause, no retries — and the release is evaluated again once it changes;
 *  - fencing and cancellation: the Lease is stolen while a reconcile is held by a slow HTTPS server; the old
 *    leader cancels the request at once, writes nothing after losing the Lease and exits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vuln');
const fx = (p: string) => readFileSync(path.join(FX, p), 'utf8');
const OSV = ['GHSA-6fc8-4gx4-v693', 'GHSA-f8q6-p94x-37v3', 'GHSA-jfh8-c2jp-5v3q', 'GHSA-xvch-5gv4-984h', 'GO-2020-0017'];
/** The observation window in which a settled release must see no reconcile at all. */
const SETTLED_WINDOW_MS = 15_000;

function configMap(namespace: string, name: string, data: Record<string, string>): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name }, data };
}

interface EventList { items: { reason: string; type: string; note?: string; regarding: { name: string } }[] }

async function events(cluster: Cluster, ns: string, name: string): Promise<EventList['items']> {
  const ev = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as EventList;
  return ev.items.filter((e) => e.regarding.name === name);
}

/** Waits until the operator's work queue is idle (nothing waiting, nothing running). */
async function idle(op: OperatorProcess): Promise<void> {
  await waitFor('the work queue to be idle', async () =>
    (await op.metric('workqueue_depth', { name: 'productrelease' })) === 0 &&
    (await op.metric('workqueue_longest_running_processor_seconds', { name: 'productrelease' })) === 0,
  { timeoutMs: 30_000, intervalMs: 200 });
}

const reconciles = (op: OperatorProcess) => op.metric('cra_gate_reconcile_total');

/**
 * Settled: the queue is idle and no reconcile happened for a quiet period (a watch event of the last write may still
 * be in flight when the queue first reads idle, and may cause one echo reconcile — see the repair test below).
 */
async function settled(op: OperatorProcess, quietMs = 3_000): Promise<void> {
  await waitFor('the release to settle (idle queue, no reconcile for a quiet period)', async () => {
    await idle(op);
    const before = await reconciles(op);
    await sleep(quietMs);
    return (await reconciles(op)) === before;
  }, { timeoutMs: 60_000, intervalMs: 100 });
}

describe('level-triggered evidence and server-side-applied status', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(configMap('cra-gate', 'osv-feed', Object.fromEntries(OSV.map((id) => [`${id}.json`, fx(`osv/${id}.json`)]))));
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': fx('kev/kev-subset-without-log4shell.json') }));
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'vuln-gate' },
      spec: {
        checks: [{ id: 'vuln.no-known-exploited', enforcement: 'Block' }, { id: 'vuln.no-known-exploitable', enforcement: 'Warn' }],
        vulnerabilityFeeds: [
          { osv: { configMapRef: { namespace: 'cra-gate', name: 'osv-feed' } } },
          { kev: { configMapRef: { namespace: 'cra-gate', name: 'kev-feed', key: 'kev.json' } } },
        ],
        reevaluateEvery: '6h',
      },
    });
    ns = await cluster.namespace('acme');
    await cluster.apply(configMap(ns, 'sbom', { 'bom.json': fx('sbom/synthetic-log4j-app.cdx.json') }));
    // No CRA_GATE_FEED_REFRESH_SECONDS: the feed refresh loop runs hourly, so only the watches can see the edits.
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-runtime', args: ['--leader-elect', 'false'] });
    await op.port();
  });

  after(async () => {
    const code = await op?.stop();
    await cluster?.stop();
    assert.equal(code, 0, 'the operator exits 0 on SIGTERM');
  });

  it('a feed ConfigMap edit re-evaluates the releases using the feed within seconds', async () => {
    const r = compliantRelease(ns, 'logger-1-0-0', { spec: { policyRef: 'vuln-gate', sboms: [{ artifact: 'router', configMapRef: { name: 'sbom', key: 'bom.json' } }] } });
    await cluster.apply(r);
    const approved = await waitForDecision(cluster, ns, 'logger-1-0-0', (x) => x.status?.decision !== 'Pending', 90_000);
    assert.equal(approved.status?.decision, 'Approved', JSON.stringify(approved.status?.checks));
    await idle(op);
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': fx('kev/kev-subset-with-log4shell.json') }));
    const blocked = await waitForDecision(cluster, ns, 'logger-1-0-0', (x) => x.status?.decision === 'Blocked', 20_000);
    assert.equal(blocked.status?.exploited?.[0]?.vulnerability, 'CVE-2021-44228');
    assert.equal(await op.metric('cra_gate_exploited_vulnerabilities'), 1);
  });

  it('fixing the vulnerability (an SBOM ConfigMap edit) removes `exploited`, zeroes the Art. 14 gauges, then reconciles stop', async () => {
    await cluster.apply(configMap(ns, 'sbom', { 'bom.json': fx('sbom/cern-lhc-vdm-editor.cdx.json') }));
    const fixed = await waitForDecision(cluster, ns, 'logger-1-0-0', (x) => x.status?.decision === 'Approved', 20_000);
    assert.equal(fixed.status?.exploited, undefined, 'the Art. 14 entries are gone from status');
    assert.equal(Object.hasOwn(fixed.status ?? {}, 'exploited'), false);
    assert.equal(await op.metric('cra_gate_exploited_vulnerabilities'), 0);
    assert.equal(await op.metric('cra_gate_art14_next_deadline_timestamp_seconds'), 0, 'no upcoming Art. 14 deadline');
    const full = JSON.parse(await cluster.kubectl(['get', 'prel', '-n', ns, 'logger-1-0-0', '-o', 'json', '--show-managed-fields'])) as typeof fixed;
    const owners = (full.metadata.managedFields ?? []).filter((f) => f.subresource === 'status');
    assert.deepEqual(owners.map((f) => [f.manager, f.operation]), [['cra-gate', 'Apply']], 'status has one owner: our apply');

    // Settled: over a window, no reconcile at all and no write (same resourceVersion).
    await settled(op);
    const count = await reconciles(op);
    const rv = (await cluster.getRelease(ns, 'logger-1-0-0')).metadata.resourceVersion;
    await sleep(SETTLED_WINDOW_MS);
    assert.equal(await reconciles(op), count, `no reconcile within ${SETTLED_WINDOW_MS / 1000} s of a settled release`);
    assert.equal((await cluster.getRelease(ns, 'logger-1-0-0')).metadata.resourceVersion, rv, 'no status write either');
  });

  it('a status written by someone else is repaired once; the repair itself causes no further reconcile', async () => {
    await idle(op);
    const count = await reconciles(op);
    await cluster.kubectl(['patch', 'prel', '-n', ns, 'logger-1-0-0', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { decision: 'Blocked', forged: 'yes' } })]);
    const repaired = await waitForDecision(cluster, ns, 'logger-1-0-0', (x) => x.status?.decision === 'Approved' && !('forged' in (x.status ?? {})), 20_000);
    assert.equal(repaired.status?.decision, 'Approved');
    await idle(op);
    const after = await reconciles(op);
    assert.ok(after - count >= 1 && after - count <= 2, `one reconcile for the foreign write (and at most one for its echo), got ${after - count}`);
  });
});

describe('error policy: a 4xx is terminal for the object version', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;
  const rules = (statusPatch: boolean) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'cra-gate-limited' },
    rules: [
      { apiGroups: ['cra-gate.dev'], resources: ['productreleases', 'releasepolicies'], verbs: ['list', 'watch'] },
      { apiGroups: ['cra-gate.dev'], resources: ['releasepolicies/status', ...(statusPatch ? ['productreleases/status'] : [])], verbs: ['patch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  });

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    ns = await cluster.namespace('acme');
    await cluster.apply(rules(false));
    await cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'cra-gate-limited' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cra-gate-limited' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'cra-gate-limited' }],
    });
    const kubeconfig = await cluster.cp.userKubeconfig('cra-gate-limited', []);
    // No Secrets for this user: with signing on, the operator would (rightly) stay unready until it could load its
    // decision key; this suite is about the status write's 403, so it runs unsigned.
    op = startOperator({ kubeconfig, identity: 'op-limited', args: ['--leader-elect', 'false', '--sign-decisions', 'false'] });
    await op.port();
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  it('a 403 on the status write: one attempt, a Warning Event naming the cause, no retry until the release changes', async () => {
    await cluster.apply(compliantRelease(ns, 'router-1-0-0'));
    const ev = await waitFor('an ApiRequestRejected Event', async () =>
      (await events(cluster, ns, 'router-1-0-0')).find((e) => e.reason === 'ApiRequestRejected' && e.type === 'Warning'), { timeoutMs: 30_000 });
    assert.match(ev.note ?? '', /HTTP 403/);
    assert.match(ev.note ?? '', /retried when the ProductRelease changes/);
    await idle(op);
    const errors = await op.metric('cra_gate_reconcile_total', { result: 'error' });
    assert.equal(errors, 1);
    // client-go would retry for ever (at most every 30 s here); a terminal error is not retried at all.
    await sleep(5_000);
    assert.equal(await op.metric('cra_gate_reconcile_total', { result: 'error' }), errors, 'no retry');
    assert.equal(await op.metric('workqueue_retries_total', { name: 'productrelease' }), 0);
    assert.equal((await cluster.getRelease(ns, 'router-1-0-0')).status?.decision, undefined, 'nothing was approved');

    // Fix the cause (RBAC), then change the object: it is evaluated again.
    await cluster.apply(rules(true));
    await waitFor('the RBAC change to take effect', async () => (await cluster.cp.kubectl(['auth', 'can-i', 'patch', 'productreleases.cra-gate.dev', '--subresource=status', '-n', ns, '--as=cra-gate-limited'])).stdout.trim() === 'yes');
    await cluster.kubectl(['label', '-n', ns, 'productrelease/router-1-0-0', 'retry=now']);
    const r = await waitForDecision(cluster, ns, 'router-1-0-0', (x) => x.status?.decision === 'Approved', 30_000);
    assert.equal(r.status?.conditions?.find((c) => c.type === 'Approved')?.status, 'True');
  });
});

describe('fencing: the Lease is stolen while a reconcile is in flight', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;
  let server: Server;
  let host: string;
  const held: { req: IncomingMessage; res: ServerResponse; closedAt?: number }[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'cra-runtime-it-'));

  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    // A slow evidence server: it holds every request open (the reconcile waits on it) and notes when the client hangs up.
    server = createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      const entry: (typeof held)[number] = { req, res };
      held.push(entry);
      res.on('close', () => (entry.closedAt = Date.now()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    cluster = await startCluster();
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'slow-policy' },
      spec: { checks: [{ id: 'disclosure.security-txt', enforcement: 'Block' }], reevaluateEvery: '6h' },
    });
    ns = await cluster.namespace('acme');
    op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'op-old-leader',
      env: {
        CRA_GATE_HTTP_ALLOW_HOSTS: host,
        CRA_GATE_HTTP_CA_FILE: path.join(dir, 'cert.pem'),
        CRA_GATE_LEASE_DURATION_MS: '6000',
        CRA_GATE_RENEW_DEADLINE_MS: '4000',
        CRA_GATE_RETRY_PERIOD_MS: '500',
      },
    });
    await op.port();
    await waitFor('the operator to lead', () => Promise.resolve(op.logs.some((l) => l.msg === 'became leader; reconciling') || undefined), { timeoutMs: 30_000 });
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
    for (const h of held) h.res.destroy();
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the old leader cancels the held request, writes nothing after losing the Lease, and exits', async () => {
    await cluster.apply(compliantRelease(ns, 'slow-1-0-0', { spec: { policyRef: 'slow-policy', vulnerabilityHandling: { securityTxt: `https://${host}/.well-known/security.txt` } } }));
    await waitFor('the reconcile to be held by the slow server', () => Promise.resolve(held.length > 0 || undefined), { timeoutMs: 30_000 });
    const before = await cluster.getRelease(ns, 'slow-1-0-0');

    // Steal the Lease: another holder, freshly renewed, for an hour.
    const lease = JSON.parse(await cluster.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'json'])) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    delete lease.metadata.resourceVersion; // an unconditional update: the leader renews every 500 ms
    const now = new Date().toISOString().replace('Z', '000Z');
    lease.spec = { ...lease.spec, holderIdentity: 'thief', leaseDurationSeconds: 3600, acquireTime: now, renewTime: now, leaseTransitions: Number(lease.spec.leaseTransitions ?? 0) + 1 };
    const stolenAt = Date.now();
    await cluster.kubectl(['replace', '-f', '-'], JSON.stringify(lease));

    const code = await op.exited();
    assert.equal(code, 1, 'the old leader exits after losing the Lease');
    assert.ok(held[0]!.closedAt !== undefined, 'the held evidence request was cancelled (the client hung up)');
    assert.ok(held[0]!.closedAt >= stolenAt, 'cancelled because of the lost Lease');
    assert.ok(op.logs.some((l) => l.msg === 'leadership lost: cancelled running reconciles'), 'in-flight reconciles were cancelled');

    const afterSteal = JSON.parse(await cluster.kubectl(['get', 'prel', '-n', ns, 'slow-1-0-0', '-o', 'json', '--show-managed-fields'])) as typeof before;
    assert.equal(afterSteal.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing was written to the release after the steal');
    assert.equal(afterSteal.status, undefined);
    assert.deepEqual((afterSteal.metadata.managedFields ?? []).filter((f) => f.manager === 'cra-gate'), []);
    const leaseNow = JSON.parse(await cluster.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'json'])) as { spec: { holderIdentity?: string } };
    assert.equal(leaseNow.spec.holderIdentity, 'thief', 'the old leader did not take the Lease back or release it');
  });
});
