/**
 * Issue 13 item 1: vulnerability coverage ("N of M components assessed" and the unassessed components) in every
 * output of `cra-gate evaluate --offline`, with the real CISA KEV catalogue, real NVD records and real OSV
 * records as feeds (ConfigMaps, as the operator reads them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.ts';
import type { CliIO } from './io.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fx = (p: string) => readFileSync(path.join(root, 'test', 'fixtures', 'vuln', p), 'utf8');
const NOW = '2028-06-01T12:00:00Z';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env: {},
    cwd: root,
  };
  const code = await run(args, io, {});
  return { code, out, err };
}

function sbom(components: unknown[]): string {
  return JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
    metadata: { timestamp: '2028-01-01T00:00:00Z', component: { type: 'firmware', name: 'cam', version: '1.0.0', 'bom-ref': 'cam' } },
    components,
  });
}

function release(name: string, cm: string): unknown {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { name, namespace: 'cov' },
    spec: {
      product: { name, manufacturer: { name: 'Thing Corp', email: 'sec@thing.example', address: 'Main St 1, Dublin, IE' } },
      version: '1.0.0',
      placedOnMarket: '2028-03-01',
      policyRef: 'cov',
      artifacts: [{ name: 'fw', url: 'https://thing.example/fw.bin', digest: `sha256:${'a'.repeat(64)}` }],
      sboms: [{ artifact: 'fw', configMapRef: { name: cm, key: 'bom.json' } }],
    },
  };
}

let dir = '';
let files: string[] = [];

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-cov-'));
  // The real catalogue (all entries), minified as a ConfigMap value.
  const kev = JSON.stringify(JSON.parse(readFileSync(path.join(root, 'test', 'fixtures', 'vuln', 'kev', 'known_exploited_vulnerabilities.json'), 'utf8')));
  const cm = (name: string, ns: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });
  const docs = [
    {
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'cov' },
      spec: {
        checks: [
          { id: 'vuln.no-known-exploitable', enforcement: 'Block' },
          { id: 'vuln.no-known-exploited', enforcement: 'Block' },
        ],
        vulnerabilityFeeds: [
          { osv: { configMapRef: { namespace: 'feeds', name: 'osv' } } },
          { nvd: { configMapRef: { namespace: 'feeds', name: 'nvd' } } },
          { kev: { configMapRef: { namespace: 'feeds', name: 'kev' } } },
        ],
      },
    },
    cm('osv', 'feeds', { 'GHSA-jfh8-c2jp-5v3q.json': fx('osv/GHSA-jfh8-c2jp-5v3q.json') }),
    cm('nvd', 'feeds', { 'nvd.json': fx('nvd/nvd-demo-subset.json') }),
    cm('kev', 'feeds', { 'kev.json': kev }),
    // A firmware with a log4j found only by its CPE (KEV through NVD), openssl as pkg:generic (unassessed).
    cm('exploited-sbom', 'cov', {
      'bom.json': sbom([
        { type: 'library', name: 'log4j', 'bom-ref': 'log4j', version: '2.14.1', cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*' },
        { type: 'library', name: 'openssl', 'bom-ref': 'openssl', version: '3.0.13', purl: 'pkg:generic/openssl@3.0.13' },
      ]),
    }),
    // Every component clean and assessed except a pkg:generic one: blocked for coverage alone.
    cm('partial-sbom', 'cov', {
      'bom.json': sbom([
        { type: 'library', name: 'zlib', 'bom-ref': 'zlib', version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*' },
        { type: 'library', name: 'busybox', 'bom-ref': 'busybox', version: '1.36.1', purl: 'pkg:generic/busybox@1.36.1' },
      ]),
    }),
    release('exploited', 'exploited-sbom'),
    release('partial', 'partial-sbom'),
  ];
  const file = path.join(dir, 'all.yaml');
  writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  files = [file];
});

after(() => rmSync(dir, { recursive: true, force: true }));

const args = (output: string) => ['evaluate', ...files, '--offline', '--now', NOW, '--output', output];

describe('cra-gate evaluate --offline: coverage in every output (real KEV catalogue, NVD and OSV records)', () => {
  it('text: the known-exploited CVE found through the CPE blocks; coverage and the unassessed component are shown', async () => {
    const r = await cli(args('text'));
    assert.equal(r.code, 1, r.err + r.out);
    assert.match(r.out, /cov\/exploited {2}Blocked/);
    assert.match(r.out, /vuln\.no-known-exploited +KnownExploitedVulnerability: 1 unresolved known-exploited vulnerabilities in 1 component\(s\): CVE-2021-44228 in cpe:2\.3:a:apache:log4j:2\.14\.1/);
    assert.match(r.out, /vulnerability coverage: 1 of 2 components assessed; unassessed: pkg:generic\/openssl@3\.0\.13 \(purl: purl type "generic" has no OSV ecosystem; no CPE\)/);
    assert.match(r.out, /cov\/partial {2}Blocked/);
    assert.match(r.out, /vuln\.no-known-exploitable +UnassessedComponents: 1 of 2 components assessed \(1 unassessed\): pkg:generic\/busybox@1\.36\.1/);
  });
  it('json: status.vulnerabilityCoverage', async () => {
    const r = await cli(args('json'));
    const items = (JSON.parse(r.out) as { items: { metadata: { name: string }; status: { vulnerabilityCoverage?: unknown; exploited?: { vulnerability: string }[] } }[] }).items;
    const byName = Object.fromEntries(items.map((i) => [i.metadata.name, i.status]));
    assert.deepEqual(byName.partial!.vulnerabilityCoverage, {
      assessed: 1,
      total: 2,
      unassessed: [{ component: 'pkg:generic/busybox@1.36.1', pointer: '/sboms/fw/components/1', reason: 'purl: purl type "generic" has no OSV ecosystem; no CPE' }],
    });
    assert.deepEqual(byName.exploited!.exploited?.map((e) => e.vulnerability), ['CVE-2021-44228'], 'the Art. 14 clock runs for a CPE-matched KEV CVE');
  });
  it('junit, sarif, markdown', async () => {
    const j = await cli(args('junit'));
    assert.match(j.out, /<property name="vulnerabilityCoverage" value="vulnerability coverage: 1 of 2 components assessed; unassessed: pkg:generic\/busybox@1\.36\.1/);
    const s = JSON.parse((await cli(args('sarif'))).out) as { runs: { properties: { vulnerabilityCoverage: Record<string, { assessed: number; total: number; text: string }> } }[] };
    assert.deepEqual({ a: s.runs[0]!.properties.vulnerabilityCoverage['cov/partial']!.assessed, t: s.runs[0]!.properties.vulnerabilityCoverage['cov/partial']!.total }, { a: 1, t: 2 });
    assert.match(s.runs[0]!.properties.vulnerabilityCoverage['cov/exploited']!.text, /openssl@3\.0\.13/);
    const m = await cli(args('markdown'));
    assert.match(m.out, /⚠️ vulnerability coverage: 1 of 2 components assessed; unassessed: pkg:generic\/busybox@1\.36\.1/);
  });
});
