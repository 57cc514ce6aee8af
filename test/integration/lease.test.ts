/**
 * LeaderElector and EventRecorder against a real kube-apiserver: exactly one of two candidates leads; a
 * released lease is taken over at once; an abandoned one after about the lease duration; a leader that
 * cannot renew within the renew deadline steps down. Short durations (3 s / 2 s / 0.5 s) keep it quick.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.ts';
import { waitFor } from '../harness/wait.ts';
import { LeaderElector, type StopReason } from '../../operator/kube/leader.ts';
import { EventRecorder } from '../../operator/kube/events.ts';

const NS = 'lease-test';
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: StopReason[];
}

void describe('leader election on a real Lease', () => {
  let cp: ControlPlane | undefined;
  const electors: LeaderElector[] = [];
  const plane = (): ControlPlane => {
    assert.ok(cp, 'the control plane did not start (see the before() hook error)');
    return cp;
  };

  const candidate = (lease: string, identity: string): Candidate => {
    const c: Candidate = { elector: undefined as unknown as LeaderElector, started: 0, stopped: [] };
    c.elector = new LeaderElector({
      kubeConfig: plane().kubeConfig(),
      namespace: NS,
      name: lease,
      identity,
      ...TIMING,
      onStartedLeading: () => { c.started++; },
      onStoppedLeading: (r) => { c.stopped.push(r); },
    });
    electors.push(c.elector);
    void c.elector.run();
    return c;
  };

  const readLease = async (name: string) =>
    plane().kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: NS });

  /** Waits until exactly one candidate leads and the Lease names it; returns [leader, follower]. */
  const electedPair = async (lease: string, a: Candidate, b: Candidate): Promise<[Candidate, Candidate]> => {
    const leader = await waitFor(`one of ${a.elector.identity}/${b.elector.identity} to lead`, () =>
      Promise.resolve(a.elector.isLeader() ? a : b.elector.isLeader() ? b : undefined), { timeoutMs: 15_000, intervalMs: 50 });
    const follower = leader === a ? b : a;
    assert.equal((await readLease(lease)).spec?.holderIdentity, leader.elector.identity);
    return [leader, follower];
  };

  before(async () => {
    cp = await startControlPlane();
    await plane().kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  }, { timeout: 30 * 60_000 });

  after(async () => {
    await Promise.all(electors.map((e) => e.stop({ release: false })));
    cp?.resumeApiServer();
    await cp?.stop();
  });

  void it('exactly one of two candidates leads; release hands over at once', async () => {
    const a = candidate('release', 'cand-a');
    const b = candidate('release', 'cand-b');
    const [leader, follower] = await electedPair('release', a, b);
    // Stays exclusive over several renew periods.
    for (let i = 0; i < 8; i++) {
      assert.ok(leader.elector.isLeader() && !follower.elector.isLeader(), 'exactly one leader');
      await sleep(250);
    }
    assert.equal(leader.started, 1);
    assert.equal(follower.started, 0);
    const before = (await readLease('release')).spec;
    assert.equal(before?.leaseDurationSeconds, 3);
    assert.equal(before?.leaseTransitions, 0, 'created by the first leader');

    const t0 = Date.now();
    await leader.elector.stop({ release: true });
    assert.deepEqual(leader.stopped, ['stopped']);
    assert.equal(leader.elector.isLeader(), false);
    await waitFor('the follower to take over', () => Promise.resolve(follower.elector.isLeader()), { timeoutMs: 5000, intervalMs: 20 });
    const took = Date.now() - t0;
    assert.ok(took < 2000, `takeover after release took ${took} ms (retry period 0.5 s)`);
    const spec = (await readLease('release')).spec;
    assert.equal(spec?.holderIdentity, follower.elector.identity);
    assert.equal(spec?.leaseTransitions, 1);
    assert.equal(spec?.leaseDurationSeconds, 3);
    assert.equal(follower.started, 1);
  });

  void it('an abandoned lease is taken over after about the lease duration', async () => {
    const a = candidate('abandon', 'cand-c');
    const b = candidate('abandon', 'cand-d');
    const [leader, follower] = await electedPair('abandon', a, b);
    const t0 = Date.now();
    await leader.elector.stop({ release: false }); // as if the process died: no release
    assert.equal((await readLease('abandon')).spec?.holderIdentity, leader.elector.identity, 'not released');
    await waitFor('the follower to take over', () => Promise.resolve(follower.elector.isLeader()), { timeoutMs: 10_000, intervalMs: 20 });
    const took = Date.now() - t0;
    // Expiry is judged by the follower's own clock from when it last saw the record change: between
    // (lease - retry) and (lease + 2 jittered retries + a request).
    assert.ok(took >= 2000 && took <= 5500, `takeover after abandonment took ${took} ms (lease 3 s)`);
    const spec = (await readLease('abandon')).spec;
    assert.equal(spec?.holderIdentity, follower.elector.identity);
    assert.equal(spec?.leaseTransitions, 1);
  });

  void it('a leader that cannot renew within the renew deadline steps down', async () => {
    const a = candidate('deadline', 'cand-e');
    await waitFor('cand-e to lead', () => Promise.resolve(a.elector.isLeader()), { timeoutMs: 10_000, intervalMs: 20 });
    const t0 = Date.now();
    plane().pauseApiServer(); // requests hang rather than fail
    try {
      await waitFor('cand-e to step down', () => Promise.resolve(a.stopped.length > 0), { timeoutMs: 8000, intervalMs: 20 });
    } finally {
      plane().resumeApiServer();
    }
    const took = Date.now() - t0;
    assert.deepEqual(a.stopped, ['lost']);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(took <= 2000 + 500 + 1500, `stepped down after ${took} ms (renew deadline 2 s)`);
    await a.elector.run(); // run() resolves once leadership is lost
  });

  void it('events are created, then de-duplicated into a series', async () => {
    await waitFor('the apiserver to answer after resume', async () => (await readLease('deadline')).metadata?.name, { timeoutMs: 15_000 });
    const kc = plane().kubeConfig();
    const recorder = new EventRecorder({ kubeConfig: kc, reportingInstance: 'cand-a' });
    const cm = await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'subject' } } });
    const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'subject', namespace: NS, uid: cm.metadata?.uid ?? '' };
    const ev = { type: 'Warning' as const, reason: 'Blocked', action: 'Evaluate', note: '2 blocking checks failed' };
    recorder.event(regarding, ev);
    await recorder.flush();
    recorder.event(regarding, ev);
    await recorder.flush();
    recorder.event(regarding, ev);
    await recorder.flush();
    recorder.event(regarding, { ...ev, type: 'Normal', reason: 'Approved', note: 'all checks passed' });
    await recorder.flush();
    const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const mine = list.items.filter((e) => e.regarding?.uid === regarding.uid);
    assert.equal(mine.length, 2, 'one Event per distinct (reason, note)');
    const blocked = mine.find((e) => e.reason === 'Blocked');
    assert.equal(blocked?.series?.count, 3);
    assert.ok(blocked?.series?.lastObservedTime);
    assert.equal(blocked?.reportingController, 'cra-gate.dev/operator');
    assert.equal(blocked?.reportingInstance, 'cand-a');
    assert.equal(blocked?.action, 'Evaluate');
    assert.equal(blocked?.regarding?.kind, 'ConfigMap');
    assert.equal(mine.find((e) => e.reason === 'Approved')?.type, 'Normal');
  });
});
