/**
 * The admission gate end to end: the real kube-apiserver calls the operator's webhook on loopback through
 * `clientConfig.url`, with the caBundle the operator bootstrapped and patched in. Approved → admitted; Blocked →
 * denied naming the release and its failing checks; warn → admitted with warnings; audit → admitted with an
 * Event and a metric; a forged status → denied (a non-leader replica answering from its cache); webhook down →
 * enforce denies, audit admits; serving certificate and CA rotation keep admission working.
 * Issue 14: every pod-bearing kind, pods/ephemeralcontainers (`kubectl debug`) and over-limit Pods are gated; a
 * release covers its own namespace (plus what the policy grants) only; an older signed Approved written back
 * over a newer Blocked is denied.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';
import { deployment, freeLoopbackPort as freePort, webhookConfiguration } from '../harness/webhook.ts';

const APPROVED_IMAGE = `registry.acme.example/router@sha256:${'a'.repeat(64)}`;
const BLOCKED_IMAGE = `registry.acme.example/camera@sha256:${'b'.repeat(64)}`;
const OTHER_IMAGE = `registry.other.example/tool@sha256:${'c'.repeat(64)}`;
/** Images of releases in namespace B (no grant): they must not decide admission in team A's namespace. */
const B_BLOCKED_IMAGE = `registry.acme.example/team-a/app@sha256:${'d'.repeat(64)}`;
const B_APPROVED_IMAGE = `registry.acme.example/team-a/tool@sha256:${'e'.repeat(64)}`;

function policy(releases: string, workloadNamespaces: string[], extraChecks: string[] = []): unknown {
  const p = baselinePolicy() as { spec: { checks: { id: string; enforcement: string }[]; admission?: unknown } };
  p.spec.checks.push(...extraChecks.map((id) => ({ id, enforcement: 'Block' })));
  p.spec.admission = { releaseNamespaces: [{ namespace: releases, workloadNamespaces }] };
  return p;
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: undefined }, () => {
      const serial = sock.getPeerCertificate().serialNumber;
      sock.end();
      resolve(serial);
    });
    sock.setTimeout(5000, () => sock.destroy(new Error('TLS probe timed out')));
    sock.once('error', reject);
  });
}

describe('admission webhook on a real control plane', () => {
  let cluster: Cluster;
  let op: OperatorProcess | undefined;
  let port: number;
  let rel: string;
  let enforce: string;
  let warn: string;
  let audit: string;
  let teamA: string;
  let teamB: string;
  let initialBundle: string;
  let firstSerial: string;

  const webhookArgs = () => ['--webhook', 'true', '--webhook-bind', `127.0.0.1:${port}`, '--webhook-ip-addresses', '127.0.0.1', '--webhook-config-name', 'cra-gate'];
  const certEnv = { CRA_GATE_WEBHOOK_CERT_VALIDITY_S: '12', CRA_GATE_WEBHOOK_CA_VALIDITY_S: '45' };
  /** Restarts the operator as a follower: someone else holds the Lease, so it serves admission but reconciles nothing. */
  const restartAsFollower = async (identity: string): Promise<OperatorProcess> => {
    await op!.stop();
    const now = new Date().toISOString().replace(/\.\d+Z$/, '.000000Z');
    await cluster.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'cra-gate-operator', namespace: 'cra-gate' },
      spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 3600, acquireTime: now, renewTime: now },
    });
    return startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity, args: ['--leader-elect', 'true', ...webhookArgs()], env: certEnv });
  };
  const kubectlRaw = (args: string[], input?: string) => cluster.cp.kubectl(args, input === undefined ? {} : { input });
  const apply = (doc: unknown, dryRun = false) => kubectlRaw(['apply', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'], JSON.stringify(doc));
  const bundle = async () =>
    ((JSON.parse(await cluster.kubectl(['get', 'validatingwebhookconfiguration', 'cra-gate', '-o', 'json'])) as { webhooks: { clientConfig: { caBundle?: string } }[] }).webhooks[0]?.clientConfig.caBundle ?? '');
  const labelled = async (prefix: string, mode: string) => {
    const ns = await cluster.namespace(prefix);
    await cluster.kubectl(['label', 'namespace', ns, `cra-gate.dev/admission=${mode}`]);
    return ns;
  };
  /** Waits until the webhook answers through the API server (an uncovered image is admitted everywhere). */
  const waitUntilServing = () =>
    waitFor('the API server to reach the webhook', async () => (await apply(deployment(enforce, 'probe', OTHER_IMAGE), true)).code === 0, { timeoutMs: 60_000, intervalMs: 500 });

  before(async () => {
    cluster = await startCluster();
    port = await freePort();
    await cluster.apply(webhookConfiguration(port));
    rel = await cluster.namespace('releases');
    enforce = await labelled('enforce', 'enforce');
    warn = await labelled('warn', 'warn');
    audit = await labelled('audit', 'audit');
    teamA = await labelled('team-a', 'enforce');
    teamB = await labelled('team-b', 'enforce');
    // Releases in `rel` also cover the enforce/warn/audit namespaces; team B's releases only team B.
    await cluster.apply(policy(rel, [enforce, warn, audit]));
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-webhook', args: ['--leader-elect', 'false', ...webhookArgs()], env: certEnv });
    // Real readiness signals, never ordering luck: the operator reports ready (/readyz) only after its webhook
    // server listens; and the serving port must complete a TLS handshake before its certificate is read.
    await op.ready();
    initialBundle = await waitFor('the caBundle to be patched', async () => (await bundle()) || undefined, { timeoutMs: 60_000 });
    firstSerial = await waitFor('the webhook port to complete a TLS handshake', () => servedSerial(port), { timeoutMs: 60_000, intervalMs: 200 });
    await cluster.apply(compliantRelease(rel, 'router'));
    await cluster.apply(
      compliantRelease(rel, 'camera', {
        spec: {
          product: { name: 'acme-camera', manufacturer: { address: null } },
          artifacts: [{ name: 'camera', image: BLOCKED_IMAGE }],
          updates: { supportEnd: '2029-01' },
        },
      }),
    );
    await cluster.apply(compliantRelease(teamB, 'app', { spec: { product: { manufacturer: { address: null } }, artifacts: [{ name: 'app', image: B_BLOCKED_IMAGE }] } }));
    await cluster.apply(compliantRelease(teamB, 'tool', { spec: { artifacts: [{ name: 'tool', image: B_APPROVED_IMAGE }] } }));
    await waitForDecision(cluster, rel, 'router', (r) => r.status?.decision === 'Approved');
    await waitForDecision(cluster, rel, 'camera', (r) => r.status?.decision === 'Blocked');
    await waitForDecision(cluster, teamB, 'app', (r) => r.status?.decision === 'Blocked');
    await waitForDecision(cluster, teamB, 'tool', (r) => r.status?.decision === 'Approved');
    await waitUntilServing();
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  it('signs every decision with a DSSE envelope', async () => {
    const r = await cluster.getRelease(rel, 'router');
    const env = r.status?.attestation;
    assert.equal(env?.payloadType, 'application/vnd.cra-gate.decision+json');
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    assert.equal(statement.release.uid, r.metadata.uid);
    assert.equal(statement.release.generation, r.metadata.generation);
    assert.equal(statement.decision, 'Approved');
    assert.match(statement.evidenceDigest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(env.signatures.length, 1);
  });

  it('admits a Deployment (and a Pod) of an Approved release in an enforce namespace', async () => {
    const d = await apply(deployment(enforce, 'router', APPROVED_IMAGE));
    assert.equal(d.code, 0, d.stderr);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'router', namespace: enforce }, spec: { containers: [{ name: 'main', image: APPROVED_IMAGE }] } };
    const p = await apply(pod);
    assert.equal(p.code, 0, p.stderr);
  });

  it('denies a Deployment of a Blocked release, naming the release and its failing checks', async () => {
    const d = await apply(deployment(enforce, 'camera', BLOCKED_IMAGE));
    assert.notEqual(d.code, 0, 'denied');
    assert.match(d.stderr, /admission webhook "enforce\.admission\.cra-gate\.dev" denied the request/);
    assert.match(d.stderr, new RegExp(`ProductRelease ${rel}/camera, which is Blocked`));
    assert.match(d.stderr, /manufacturer\.identity \(MissingPostalAddress\)/);
    assert.match(d.stderr, /update\.support-period/);
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'camera', namespace: enforce },
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: BLOCKED_IMAGE }] } } } } },
    };
    const c = await apply(cron);
    assert.notEqual(c.code, 0, 'a CronJob with the image is denied too');
    // An image no release covers is admitted (not strict).
    assert.equal((await apply(deployment(enforce, 'other', OTHER_IMAGE))).code, 0);
  });

  it('gates every pod-bearing kind and every container list (issue 14, item 2)', async () => {
    const podSpec = (image: string) => ({ restartPolicy: 'Always', containers: [{ name: 'main', image: OTHER_IMAGE }], initContainers: [{ name: 'init', image }] });
    const tmpl = (name: string, image: string) => ({ metadata: { labels: { app: name } }, spec: podSpec(image) });
    const sel = (name: string) => ({ matchLabels: { app: name } });
    const objects: Record<string, unknown>[] = [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'k-pod' }, spec: podSpec(BLOCKED_IMAGE) },
      { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'k-rc' }, spec: { replicas: 1, selector: { app: 'k-rc' }, template: tmpl('k-rc', BLOCKED_IMAGE) } },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'k-rs' }, spec: { selector: sel('k-rs'), template: tmpl('k-rs', BLOCKED_IMAGE) } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'k-sts' }, spec: { serviceName: 'k-sts', selector: sel('k-sts'), template: tmpl('k-sts', BLOCKED_IMAGE) } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'k-ds' }, spec: { selector: sel('k-ds'), template: tmpl('k-ds', BLOCKED_IMAGE) } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'k-job' }, spec: { template: { spec: { ...podSpec(BLOCKED_IMAGE), restartPolicy: 'Never' } } } },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'k-cron' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec(BLOCKED_IMAGE), restartPolicy: 'Never' } } } } } },
    ];
    for (const o of objects) {
      (o.metadata as { namespace: string }).namespace = enforce;
      const r = await apply(o, true);
      assert.notEqual(r.code, 0, `${String(o.kind)} with a blocked initContainer is denied`);
      assert.match(r.stderr, new RegExp(`ProductRelease ${rel}/camera, which is Blocked`), String(o.kind));
    }
  });

  it('a Pod with more containers than the webhook checks is denied, not checked in part', async () => {
    const containers = Array.from({ length: 513 }, (_, i) => ({ name: `c${i}`, image: i === 512 ? BLOCKED_IMAGE : OTHER_IMAGE }));
    const r = await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide', namespace: enforce }, spec: { containers } }, true);
    assert.notEqual(r.code, 0, 'denied');
    assert.match(r.stderr, /spec\.containers has 513 entries, more than the 512 the webhook checks/);
  });

  it('kubectl debug with a blocked image is denied (pods/ephemeralcontainers), with an approved one admitted', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug-me', namespace: enforce }, spec: { containers: [{ name: 'main', image: APPROVED_IMAGE }] } };
    assert.equal((await apply(pod)).code, 0);
    const denied = await kubectlRaw(['debug', '-n', enforce, 'debug-me', `--image=${BLOCKED_IMAGE}`, '--container=dbg', '--attach=false']);
    assert.notEqual(denied.code, 0, denied.stdout);
    assert.match(denied.stderr, /denied the request: .*which is Blocked/);
    const tagged = await kubectlRaw(['debug', '-n', enforce, 'debug-me', '--image=busybox:latest', '--container=dbg2', '--attach=false']);
    assert.notEqual(tagged.code, 0, 'a tag-only debug image is denied (tags: Deny by default)');
    assert.match(tagged.stderr, /not pinned by digest/);
    const ok = await kubectlRaw(['debug', '-n', enforce, 'debug-me', `--image=${APPROVED_IMAGE}`, '--container=dbg3', '--attach=false']);
    assert.equal(ok.code, 0, ok.stderr);
    const live = JSON.parse(await cluster.kubectl(['get', 'pod', '-n', enforce, 'debug-me', '-o', 'json'])) as { spec: { ephemeralContainers?: { name: string }[] } };
    assert.deepEqual(live.spec.ephemeralContainers?.map((c) => c.name), ['dbg3']);
  });

  it('a release covers workloads in its own namespace only, unless the policy grants more (issue 14, item 4)', async () => {
    // Team B's Blocked release does not deny team A's workload ...
    const a = await apply(deployment(teamA, 'app', B_BLOCKED_IMAGE), true);
    assert.equal(a.code, 0, a.stderr);
    // ... and team B's Approved release does not admit it where every image needs an Approved release.
    await cluster.kubectl(['label', 'namespace', teamA, 'cra-gate.dev/admission-strict=true']);
    const strict = await waitFor('team A to be strict', async () => {
      const r = await apply(deployment(teamA, 'tool', B_APPROVED_IMAGE), true);
      return r.code !== 0 ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    assert.match(strict.stderr, /belongs to no Approved ProductRelease that covers namespace/);
    // In team B itself both decide.
    const b = await apply(deployment(teamB, 'app', B_BLOCKED_IMAGE), true);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, new RegExp(`ProductRelease ${teamB}/app, which is Blocked`));
    assert.equal((await apply(deployment(teamB, 'tool', B_APPROVED_IMAGE), true)).code, 0);
    // The granted namespaces of the release namespace: covered (see the tests above for `enforce`).
  });

  it('warn mode admits with admission warnings', async () => {
    const d = await apply(deployment(warn, 'camera', BLOCKED_IMAGE));
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /Warning: cra-gate: container main: image registry\.acme\.example\/camera@sha256:b+ belongs to ProductRelease .*camera, which is Blocked/);
  });

  it('audit mode admits, with an Event on the release and a metric', async () => {
    const d = await apply(deployment(audit, 'camera', BLOCKED_IMAGE));
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stderr, /Warning/);
    await waitFor('an AdmissionAudit event on the release', async () => {
      const out = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', rel, '-o', 'json'])) as { items: { reason: string; regarding: { name: string }; note: string }[] };
      return out.items.find((e) => e.reason === 'AdmissionAudit' && e.regarding.name === 'camera' && e.note.includes(audit));
    });
    assert.ok((await op!.metric('cra_gate_admission_reviews_total', { mode: 'audit', outcome: 'audited' })) >= 1);
    assert.ok((await op!.metric('cra_gate_admission_violations_total', { mode: 'enforce', reason: 'ReleaseBlocked' })) >= 1);
  });

  it('rotates the serving certificate and the CA without interrupting admission', async () => {
    // Serving certificates live 12 s (renewed after 8 s), the CA 45 s (renewed with 15 s left).
    await waitFor('a new serving certificate', async () => (await servedSerial(port)) !== firstSerial, { timeoutMs: 30_000, intervalMs: 500 });
    await waitFor('a rotated CA in the caBundle', async () => (await bundle()) !== initialBundle, { timeoutMs: 60_000, intervalMs: 1000 });
    // Past the first certificate's and the first CA's lifetimes, admission still works both ways.
    const deadline = Date.now() + 20_000;
    let rounds = 0;
    while (Date.now() < deadline && rounds < 40) {
      rounds++;
      const ok = await apply(deployment(enforce, 'router', APPROVED_IMAGE), true);
      assert.equal(ok.code, 0, ok.stderr);
      await new Promise((r) => setTimeout(r, 500));
    }
    const denied = await apply(deployment(enforce, 'camera', BLOCKED_IMAGE), true);
    assert.match(denied.stderr, /which is Blocked/);
  });

  it('a forged Approved status is denied (a non-leader replica answers from its cache)', async () => {
    // Replace the operator by a replica that never leads (another holder keeps the Lease), so nothing repairs
    // the forged status while we look.
    op = await restartAsFollower('op-follower');
    await op.ready();
    await waitUntilServing();

    const router = await cluster.getRelease(rel, 'router');
    const camera = await cluster.getRelease(rel, 'camera');
    const approvedConditions = router.status!.conditions;
    // 1. Approved, with no signature.
    await kubectlRaw(['patch', 'productrelease', '-n', rel, 'camera', '--subresource=status', '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/status/decision', value: 'Approved' },
      { op: 'replace', path: '/status/conditions', value: approvedConditions },
      { op: 'remove', path: '/status/attestation' },
    ])]);
    const noSig = await waitFor('the forged status to be judged', async () => {
      const r = await apply(deployment(enforce, 'camera', BLOCKED_IMAGE), true);
      return /carries no signed decision/.test(r.stderr) ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    assert.notEqual(noSig.code, 0);
    assert.match(noSig.stderr, new RegExp(`ProductRelease ${rel}/camera, whose decision is not trusted`));
    // 2. Approved, with the (valid) signed decision of another release copied in.
    await kubectlRaw(['patch', 'productrelease', '-n', rel, 'camera', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { attestation: router.status!.attestation, checks: router.status!.checks } })]);
    const copied = await waitFor('the copied envelope to be judged', async () => {
      const r = await apply(deployment(enforce, 'camera', BLOCKED_IMAGE), true);
      return /belongs to another object/.test(r.stderr) ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    assert.notEqual(copied.code, 0);
    // 3. A signature that does not verify.
    const bad = { ...camera.status!.attestation!, payload: router.status!.attestation!.payload.replace(/.{4}$/, 'AAAA') };
    await kubectlRaw(['patch', 'productrelease', '-n', rel, 'camera', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { attestation: bad } })]);
    const badSig = await waitFor('the bad signature to be judged', async () => {
      const r = await apply(deployment(enforce, 'camera', BLOCKED_IMAGE), true);
      return /does not verify/.test(r.stderr) ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    assert.notEqual(badSig.code, 0);
    // The approved release still admits through this replica.
    assert.equal((await apply(deployment(enforce, 'router', APPROVED_IMAGE), true)).code, 0);
  });

  it('an older signed Approved written back over a newer Blocked is denied (issue 14, item 3)', async () => {
    // A leader again: it repairs the forged statuses above and re-evaluates.
    await op!.stop();
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-leader-2', args: ['--leader-elect', 'false', ...webhookArgs()], env: certEnv });
    await op.port();
    await waitUntilServing();
    const approved = await waitForDecision(cluster, rel, 'router', (r) => r.status?.decision === 'Approved' && r.status.attestation !== undefined);
    const older = approved.status!;
    // The policy tightens (same release generation): router has no secure defaults, so it is Blocked now.
    await cluster.apply(policy(rel, [enforce, warn, audit], ['config.secure-defaults']));
    const blocked = await waitForDecision(cluster, rel, 'router', (r) => r.status?.decision === 'Blocked');
    assert.equal(blocked.metadata.generation, approved.metadata.generation, 'same release generation');
    assert.ok(blocked.status!.evaluationSequence! > older.evaluationSequence!, 'the sequence increased');
    await waitFor('the webhook to deny the now Blocked release', async () => (await apply(deployment(enforce, 'router-r', APPROVED_IMAGE), true)).code !== 0, { timeoutMs: 20_000, intervalMs: 300 });

    // A replica that does not lead (another holder keeps the Lease, so nothing repairs the status while we look)
    // and has seen the Blocked decision.
    op = await restartAsFollower('op-follower-2');
    await op.port();
    await waitUntilServing();
    const before = await apply(deployment(enforce, 'router-r', APPROVED_IMAGE), true);
    assert.match(before.stderr, /which is Blocked/);
    // Write the older signed Approved back through the status subresource.
    const replayed = { ...older, conditions: older.conditions };
    const patched = await kubectlRaw(['patch', 'productrelease', '-n', rel, 'router', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: replayed })]);
    assert.equal(patched.code, 0, patched.stderr);
    const current = await cluster.getRelease(rel, 'router');
    assert.equal(current.status?.decision, 'Approved', 'the replay is in place');
    const r = await waitFor('the replay to be judged', async () => {
      const x = await apply(deployment(enforce, 'router-r', APPROVED_IMAGE), true);
      return /replayed/.test(x.stderr) || x.code === 0 ? x : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    assert.notEqual(r.code, 0, 'the replayed Approved admits nothing');
    assert.match(r.stderr, new RegExp(`ProductRelease ${rel}/router, whose decision is not trusted: the signed decision \\(sequence \\d+\\) is older than one already seen`));
  });

  it('with the webhook down, enforce namespaces deny and audit namespaces admit', async () => {
    await op!.stop();
    op = undefined;
    const d = await apply(deployment(enforce, 'router-2', APPROVED_IMAGE));
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /failed calling webhook "enforce\.admission\.cra-gate\.dev"/);
    const a = await apply(deployment(audit, 'camera-2', BLOCKED_IMAGE));
    assert.equal(a.code, 0, a.stderr);
    // Namespaces without the label never reach the webhook.
    assert.equal((await apply(deployment(rel, 'camera', BLOCKED_IMAGE))).code, 0);
  });
});
