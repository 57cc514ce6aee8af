/**
 * The offline CLI against the real thing:
 * - the offline validator rejects what a real kube-apiserver rejects (`kubectl create --dry-run=server`),
 *   naming the same field, and both accept the valid manifests;
 * - `cra-gate evaluate` and the operator give identical results for the same fixtures: the fixtures are
 *   applied to the control plane, the real operator process evaluates them, and each status's decision,
 *   checks, summary, policy and conditions (timestamps aside) equal the CLI's JSON output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../harness/cli.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { ManifestValidator } from '../../operator/validation/validate.ts';
import { dumpYaml, loadYamlDocuments } from '../../operator/validation/yaml.ts';
import { malformedCases, validPolicy, validRelease, type Obj } from '../fixtures/cli/malformed.ts';
import type { ProductRelease } from '../../operator/api/types.ts';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'cli');


/** Conditions without their timestamps. */
function conditions(status: ProductRelease['status']): unknown[] {
  return (status?.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest).sort((a, b) => a.type.localeCompare(b.type));
}

void describe('cra-gate CLI against a real control plane', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let op: OperatorProcess | undefined;

  before(async () => {
    cluster = await startCluster();
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  void it('rejects offline exactly what the API server rejects, naming the same field', async () => {
    const validator = ManifestValidator.fromDirectory(path.join(repoRoot, 'crds'));
    const dryRun = (obj: Obj) =>
      cluster.cp.kubectl(['create', '--dry-run=server', '--validate=strict', '-o', 'name', '-f', '-'], { input: JSON.stringify(obj) });

    for (const obj of [validRelease(), validPolicy()]) {
      const server = await dryRun(obj);
      assert.equal(server.code, 0, `API server rejected the valid ${obj.kind as string}: ${server.stderr}`);
      assert.deepEqual(validator.validate(obj).errors, [], `offline validator rejected the valid ${obj.kind as string}`);
    }
    const disagreements: string[] = [];
    for (const c of malformedCases) {
      const obj = c.base();
      c.mutate(obj);
      const server = await dryRun(obj);
      const offline = validator.validate(obj).errors;
      const serverNames = server.code !== 0 && server.stderr.includes(c.field);
      const offlineNames = offline.some((e) => e.field === c.field);
      if (!serverNames || !offlineNames) {
        disagreements.push(
          `${c.name}: server ${server.code === 0 ? 'ACCEPTED' : serverNames ? 'ok' : `did not name ${c.field}: ${server.stderr.trim()}`}; offline ${offline.length === 0 ? 'ACCEPTED' : offlineNames ? 'ok' : `did not name ${c.field}: ${offline.map((e) => e.message).join(' | ')}`}`,
        );
      }
    }
    assert.deepEqual(disagreements, []);
  });

  void it('gives the same decision, checks, summary and conditions as the operator for the same fixtures', async () => {
    const files = ['policies.yaml', 'configmaps.yaml', 'releases.yaml', 'missing-policy.yaml', 'unknown-check-policy.yaml'].map((f) => path.join(fixtures, f));
    await cluster.kubectl(['create', 'namespace', 'cli-fixtures']);
    for (const f of files) await cluster.kubectl(['apply', '--validate=strict', '-f', f]);

    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'cli-parity', args: ['--leader-elect', 'false'] });
    await op.port();

    const releases = files.flatMap((f) =>
      loadYamlDocuments(readFileSync(f, 'utf8')).filter((d): d is ProductRelease => (d as { kind?: string }).kind === 'ProductRelease'),
    );
    assert.ok(releases.length >= 6);
    const fromOperator = new Map<string, ProductRelease>();
    for (const r of releases) {
      const got = await waitForDecision(cluster, r.metadata.namespace!, r.metadata.name!);
      fromOperator.set(`${r.metadata.namespace}/${r.metadata.name}`, got);
    }

    // Same inputs: the CLI reads each release as the API server holds it, creationTimestamp included (cra.applicability
    // compares placedOnMarket with it, issue 13 item 5); everything else is the fixture file as applied.
    const inputDir = mkdtempSync(path.join(os.tmpdir(), 'cli-parity-'));
    const inputs = files.map((f) => {
      const docs = loadYamlDocuments(readFileSync(f, 'utf8')).map((d) => {
        const r = d as ProductRelease;
        if (r.kind !== 'ProductRelease') return d;
        const created = fromOperator.get(`${r.metadata.namespace}/${r.metadata.name}`)?.metadata?.creationTimestamp;
        return { ...r, metadata: { ...r.metadata, ...(created ? { creationTimestamp: new Date(created).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}) } };
      });
      const out = path.join(inputDir, path.basename(f));
      writeFileSync(out, docs.map((d) => dumpYaml(d)).join('---\n'));
      return out;
    });
    const cli = await runCli(['evaluate', ...inputs.filter((f) => !f.endsWith('policies.yaml') && !f.endsWith('configmaps.yaml')), '--policy', inputs[0]!, '--configmap', inputs[1]!, '--output', 'json']);
    rmSync(inputDir, { recursive: true, force: true });
    assert.equal(cli.code, 2, `exit code (a Pending release and an errored blocking check make it 2): ${cli.stderr}`);
    const list = JSON.parse(cli.stdout) as { items: { metadata: { name: string; namespace: string }; status: ProductRelease['status'] }[] };
    assert.equal(list.items.length, releases.length);

    const decisions = new Set<string>();
    for (const item of list.items) {
      const k = `${item.metadata.namespace}/${item.metadata.name}`;
      const server = fromOperator.get(k);
      assert.ok(server, `operator has no ${k}`);
      const s = server.status!;
      const c = item.status!;
      assert.equal(c.decision, s.decision, `${k}: decision`);
      assert.deepEqual(c.checks, s.checks, `${k}: checks`);
      assert.deepEqual(c.summary, s.summary, `${k}: summary`);
      assert.deepEqual(c.policy, s.policy, `${k}: policy`);
      assert.equal(c.observedGeneration, s.observedGeneration, `${k}: observedGeneration`);
      assert.deepEqual(conditions(c), conditions(s), `${k}: conditions`);
      decisions.add(String(c.decision));
    }
    // The fixtures cover every decision.
    assert.deepEqual([...decisions].sort(), ['Approved', 'Blocked', 'Pending']);
  });
});
