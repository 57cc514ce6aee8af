/**
 * Issue 13 item 2 end to end through the offline CLI (the same collectors, checks and decision as the operator):
 * a VEX about another product or version never resolves Log4Shell; the same statement about this release does.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpYaml } from '../validation/yaml.ts';
import { run } from './run.ts';
import type { CliIO } from './io.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vulnFx = (f: string) => readFileSync(path.join(root, 'test', 'fixtures', 'vuln', f), 'utf8');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-cli-vex-'));
const NS = 'vex-cli';

function write(name: string, docs: unknown[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, docs.map((d) => dumpYaml(d)).join('---\n'));
  return file;
}

const policy = {
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ReleasePolicy',
  metadata: { name: 'vex-gate' },
  spec: {
    checks: [{ id: 'vuln.no-known-exploited', enforcement: 'Block' }, { id: 'vex.valid', enforcement: 'Block' }],
    vulnerabilityFeeds: [
      { osv: { configMapRef: { namespace: NS, name: 'feeds', key: 'osv.json' } } },
      { kev: { configMapRef: { namespace: NS, name: 'feeds', key: 'kev.json' } } },
    ],
  },
};

function openvex(product: string) {
  return JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://acme.example/vex/logger-1',
    author: 'ACME PSIRT',
    timestamp: '2028-01-02T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'CVE-2021-44228' },
        products: [{ '@id': product, subcomponents: [{ '@id': 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }] }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_present',
      },
    ],
  });
}

const configMaps = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'feeds', namespace: NS }, data: { 'osv.json': vulnFx('osv/GHSA-jfh8-c2jp-5v3q.json'), 'kev.json': vulnFx('kev/kev-subset-with-log4shell.json') } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sbom', namespace: NS }, data: { 'bom.json': vulnFx('sbom/synthetic-log4j-app.cdx.json') } },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'vex', namespace: NS },
    data: {
      'this-release.json': openvex('pkg:generic/acme/acme-logger@1.0.0'),
      'other-version.json': openvex('pkg:generic/acme/acme-logger@0.9.0'),
      'other-product.json': openvex('pkg:generic/acme/acme-router@1.0.0'),
    },
  },
];

function release(name: string, vexKey: string) {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { name, namespace: NS },
    spec: {
      product: { name: 'acme-logger', manufacturer: { name: 'ACME', url: 'https://acme.example' } },
      version: '1.0.0',
      placedOnMarket: '2028-01-15',
      policyRef: 'vex-gate',
      artifacts: [{ name: 'app', url: 'https://downloads.acme.example/logger-1.0.0.tar', digest: `sha256:${'a'.repeat(64)}` }],
      sboms: [{ artifact: 'app', configMapRef: { name: 'sbom', key: 'bom.json' } }],
      vulnerabilityHandling: { contact: 'mailto:psirt@acme.example', vex: { configMapRef: { name: 'vex', key: vexKey } } },
    },
  };
}

interface JsonCheck {
  id: string;
  result: string;
  reason?: string;
  message?: string;
}
/** `--output json`: a List whose items carry the status the operator would write. */
interface JsonList {
  items: { status?: { decision?: string; checks?: JsonCheck[] } }[];
}

async function evaluate(name: string, vexKey: string): Promise<{ code: number; decision: string | undefined; checks: Map<string, JsonCheck>; out: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s), isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {}, cwd: root };
  const files = [write(`${name}.yaml`, [release(name, vexKey)]), '--policy', write('policy.yaml', [policy]), '--configmap', write('configmaps.yaml', configMaps)];
  const code = await run(['evaluate', ...files, '--output', 'json', '--now', '2028-02-01T00:00:00Z'], io);
  assert.notEqual(code, 2, err || out);
  const status = (JSON.parse(out) as JsonList).items[0]?.status;
  return { code, decision: status?.decision, checks: new Map((status?.checks ?? []).map((c) => [c.id, c])), out };
}

describe('cra-gate evaluate: VEX bound to its product (offline, real KEV + OSV records)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a statement about this release resolves Log4Shell', async () => {
    const r = await evaluate('this-release', 'this-release.json');
    assert.equal(r.decision, 'Approved', r.out);
    assert.equal(r.code, 0);
    assert.equal(r.checks.get('vuln.no-known-exploited')?.result, 'Pass');
    assert.match(r.checks.get('vuln.no-known-exploited')?.message ?? '', /1 resolved by VEX/);
  });

  for (const [key, why] of [['other-version.json', /about version 0\.9\.0, not 1\.0\.0/], ['other-product.json', /names another product/]] as const) {
    it(`the same statement for ${key.replace('.json', '')} never suppresses: Blocked, vex.valid says why`, async () => {
      const r = await evaluate(key.replace('.json', ''), key);
      assert.equal(r.decision, 'Blocked', r.out);
      assert.equal(r.code, 1);
      assert.deepEqual([r.checks.get('vuln.no-known-exploited')?.result, r.checks.get('vuln.no-known-exploited')?.reason], ['Fail', 'KnownExploitedVulnerability']);
      assert.deepEqual([r.checks.get('vex.valid')?.result, r.checks.get('vex.valid')?.reason], ['Fail', 'VexNotForProduct']);
      assert.match(r.checks.get('vex.valid')?.message ?? '', why);
    });
  }
});
