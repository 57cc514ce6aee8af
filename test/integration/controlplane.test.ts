// The real control plane the integration tests and the demo run against: etcd + kube-apiserver processes.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.ts';
import { waitFor } from '../harness/wait.ts';

void describe('control plane harness', () => {
  let cp: ControlPlane | undefined;
  const plane = (): ControlPlane => {
    assert.ok(cp, 'the control plane did not start (see the before() hook error)');
    return cp;
  };
  let cmRv = '';

  before(async () => {
    cp = await startControlPlane();
  }, { timeout: 30 * 60_000 }); // a cold tool build takes minutes; a warm start a few seconds

  after(async () => {
    await cp?.stop();
  });

  void it('serves kubectl as the admin user', async () => {
    const r = await plane().kubectl(['get', 'ns', 'default', '-o', 'jsonpath={.status.phase}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Active');
    const who = await plane().kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'cra-gate-admin');
  });

  void it('works with @kubernetes/client-node through kubeConfig()', async () => {
    const api = plane().kubeConfig().makeApiClient(CoreV1Api);
    const ns = await api.readNamespace({ name: 'default' });
    assert.equal(ns.metadata?.name, 'default');
    const kc = await readFile(plane().kubeconfigPath, 'utf8');
    assert.match(kc, /certificate-authority-data: /);
    assert.ok(plane().server.startsWith('https://127.0.0.1:'));
  });

  void it('keeps a ConfigMap across an apiserver restart on the same port', async () => {
    const created = await plane().kubectl(['apply', '-f', '-', '-o', 'jsonpath={.metadata.resourceVersion}'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'harness-probe', namespace: 'default' },
        data: { hello: 'world' },
      }),
    });
    assert.equal(created.code, 0, created.stderr);
    cmRv = created.stdout;
    assert.match(cmRv, /^\d+$/);
    const server = plane().server;
    const apiserverPid = plane().pids().apiserver;
    await plane().restartApiServer();
    assert.equal(plane().server, server);
    assert.notEqual(plane().pids().apiserver, apiserverPid, 'a new kube-apiserver process');
    const got = await plane().kubectl(['get', 'configmap', 'harness-probe', '-o', 'jsonpath={.data.hello}']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, 'world');
  });

  void it('answers 410 Gone for a compacted resourceVersion (exact list) and a watch from before a restart', async () => {
    assert.ok(cmRv, 'needs the ConfigMap of the previous test');
    const exactList = `/api/v1/namespaces/default/configmaps?resourceVersion=${cmRv}&resourceVersionMatch=Exact`;
    const before = await plane().kubectl(['get', '--raw', exactList]);
    assert.equal(before.code, 0, `an exact list at ${cmRv} works before compaction: ${before.stderr}`);
    // Move etcd's revision past the ConfigMap's, then compact everything before the current revision.
    const bump = await plane().kubectl(['create', 'configmap', 'harness-bump', '--from-literal=a=b']);
    assert.equal(bump.code, 0, bump.stderr);
    const rev = await plane().compactEtcd();
    assert.ok(rev > Number(cmRv), `compacted to ${rev}, past the ConfigMap's ${cmRv}`);
    const after = await plane().kubectl(['get', '--raw', exactList]);
    assert.notEqual(after.code, 0, 'an exact list at a compacted revision fails');
    assert.match(after.stderr, /Expired|410|too old/i, after.stderr);
    // The watch cache starts at the apiserver's (re)start: a watch from an older resourceVersion gets an ERROR
    // event with a 410 Status (or HTTP 410), which is what makes a client re-list.
    const watch = await plane().kubectl([
      'get', '--raw', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${cmRv}&timeoutSeconds=10`,
      '--request-timeout=20s',
    ]);
    const out = `${watch.stdout}\n${watch.stderr}`;
    assert.match(out, /"code":\s*410|\(Expired\)/, `expected 410 Gone, got exit ${watch.code}: ${out.slice(0, 800)}`);
    // A watch from a current resourceVersion still works (and ends at timeoutSeconds).
    const list = await plane().kubectl(['get', 'configmaps', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(list.code, 0, list.stderr);
    const fresh = await plane().kubectl([
      'get', '--raw', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.stdout}&timeoutSeconds=1`,
    ]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(fresh.stdout, /"code":\s*410/);
  });

  void it('keeps data across an etcd restart', async () => {
    const etcdPid = plane().pids().etcd;
    await plane().restartEtcd();
    assert.notEqual(plane().pids().etcd, etcdPid, 'a new etcd process');
    const got = await waitFor('the ConfigMap after an etcd restart', async () => {
      const r = await plane().kubectl(['get', 'configmap', 'harness-probe', '-o', 'jsonpath={.data.hello}']);
      return r.code === 0 ? r.stdout : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    assert.equal(got, 'world');
    const write = await plane().kubectl(['create', 'configmap', 'after-etcd-restart', '--from-literal=x=y']);
    assert.equal(write.code, 0, write.stderr);
  });

  void it('enforces RBAC for user client certificates', async () => {
    const kubeconfig = await plane().userKubeconfig('jane@acme.example', ['release-managers']);
    const who = await plane().kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig });
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, 'jane@acme.example');
    assert.ok(info.groups.includes('release-managers'), JSON.stringify(info));
    const denied = await plane().kubectl(['get', 'configmaps'], { kubeconfig });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Forbidden/);
    // No kube-controller-manager runs, so aggregated ClusterRoles (view, edit, admin) have no rules: use a Role.
    const role = await plane().kubectl(['create', 'role', 'cm-reader', '--verb=get,list,watch', '--resource=configmaps', '-n', 'default']);
    assert.equal(role.code, 0, role.stderr);
    const grant = await plane().kubectl(['create', 'rolebinding', 'rm-cm-reader', '--role=cm-reader', '--group=release-managers', '-n', 'default']);
    assert.equal(grant.code, 0, grant.stderr);
    const allowed = await waitFor('RBAC to allow the group', async () => {
      const r = await plane().kubectl(['get', 'configmap', 'harness-probe', '-o', 'name'], { kubeconfig });
      return r.code === 0 ? r.stdout.trim() : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    assert.equal(allowed, 'configmap/harness-probe');
  });

  void it('pauses and resumes the apiserver', async () => {
    plane().pauseApiServer();
    try {
      const r = await plane().kubectl(['get', 'ns', 'default', '--request-timeout=1s']);
      assert.notEqual(r.code, 0, 'a paused apiserver does not answer');
    } finally {
      plane().resumeApiServer();
    }
    const r = await plane().kubectl(['get', 'ns', 'default', '-o', 'name', '--request-timeout=10s']);
    assert.equal(r.code, 0, r.stderr);
  });
});

void describe('control plane start failures', () => {
  void it('throws with the last lines of the failing process output, and leaves nothing behind', async () => {
    const fake = await mkdtemp(path.join(os.tmpdir(), 'cra-gate-fake-tools-'));
    await mkdir(path.join(fake, 'bin'));
    await writeFile(path.join(fake, 'bin', 'etcd'), '#!/bin/sh\necho "fake etcd: cannot open the data dir" >&2\nexit 3\n', { mode: 0o755 });
    const saved = { cache: process.env.CRA_GATE_TOOLS_CACHE, skip: process.env.CRA_GATE_SKIP_TOOLS_BUILD };
    process.env.CRA_GATE_TOOLS_CACHE = fake;
    process.env.CRA_GATE_SKIP_TOOLS_BUILD = '1';
    const lines: string[] = [];
    try {
      const t0 = Date.now();
      await assert.rejects(startControlPlane({ log: (l) => lines.push(l) }), (err: Error) => {
        assert.match(err.message, /etcd did not become ready: gave up waiting for etcd \/health: etcd exited \(code 3/);
        assert.match(err.message, /fake etcd: cannot open the data dir/);
        return true;
      });
      assert.ok(Date.now() - t0 < 20_000, 'fails fast when the process exits');
      const dirLine = lines.find((l) => l.startsWith('certificates ready'));
      const dir = /\((\/[^)]+)\)/.exec(dirLine ?? '')?.[1];
      assert.ok(dir, `the temp dir is logged: ${lines.join(' | ')}`);
      await assert.rejects(stat(dir), /ENOENT/, 'the temp dir is removed');
    } finally {
      if (saved.cache === undefined) delete process.env.CRA_GATE_TOOLS_CACHE;
      else process.env.CRA_GATE_TOOLS_CACHE = saved.cache;
      if (saved.skip === undefined) delete process.env.CRA_GATE_SKIP_TOOLS_BUILD;
      else process.env.CRA_GATE_SKIP_TOOLS_BUILD = saved.skip;
      await rm(fake, { recursive: true, force: true });
    }
  });
});
