/**
 * SBOM rules, issue #13: reduced field sets only where the SBOM states them (item 7), §5.2.4 URIs (item 7),
 * creator given as author (item 12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSbom } from './analyze.ts';
import { componentKind, isValidUri, ruleBsiFields, ruleTopLevelDeps } from './rules.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = (...p: string[]) => readFileSync(join(root, 'test', 'fixtures', 'sbom', ...p));
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test documents are loosely typed JSON
type Doc = Record<string, any>;
const compliant = (): Doc => JSON.parse(fixture('handmade', 'compliant.cdx.json').toString('utf8')) as Doc;
const model = (doc: Doc | Buffer) => {
  const a = analyzeSbom(Buffer.isBuffer(doc) ? doc : JSON.stringify(doc));
  assert.ok(a.ok, 'analysable');
  return a.model;
};
const reasons = (doc: Doc | Buffer) => ruleBsiFields(model(doc), 'bsi-2.1').map((f) => f.reason);

test('item 7: a real cyclonedx-npm SBOM (270 components, 20 with nested components) gets no reduced field set', () => {
  const m = model(fixture('generated', 'cra-gate.cdx.json'));
  assert.equal(m.components.length, 270);
  assert.equal(m.components.filter((c) => c.nested > 0).length, 20);
  assert.ok(m.components.every((c) => componentKind(c) === 'full'), 'nothing in it states a logical component');
  const byReason = new Map(ruleBsiFields(m, 'bsi-2.1').map((f) => [f.reason, f]));
  // Every component, the 20 nesting ones included, lacks filename, hash and the bsi properties.
  for (const r of ['MissingComponentFilename', 'MissingDeployableHash', 'MissingExecutableProperty', 'MissingArchiveProperty', 'MissingStructuredProperty'] as const) {
    const f = byReason.get(r);
    assert.ok(f, r);
    // The primary component is counted separately ("the primary component lacks …").
    const total = ruleBsiFields(m, 'bsi-2.1').filter((x) => x.reason === r).reduce((n, x) => n + x.count, 0);
    assert.equal(total, 270, r);
  }
});

test('item 7: nesting or missing file fields never makes a component logical; its stated type does', () => {
  const d = compliant();
  // A library that nests a component and has no file-level fields: still a full component.
  d.components[1] = { ...d.components[1], hashes: [], properties: [], components: [{ type: 'file', 'bom-ref': 'zlib-h', name: 'zlib.h', version: '1.3.1' }] };
  const r = reasons(d);
  assert.ok(r.includes('MissingComponentFilename'));
  assert.ok(r.includes('MissingDeployableHash'));
  for (const type of ['operating-system', 'platform', 'device']) {
    const l = compliant();
    l.components[1] = { ...l.components[1], type, hashes: [], properties: [] };
    const m = model(l);
    assert.equal(componentKind(m.components.find((c) => c.ref === 'zlib')!), 'logical', type);
    assert.deepEqual(reasons(l), [], `${type}: TR §3.2.2 fields only`);
  }
  for (const type of ['application', 'framework', 'library', 'container', 'firmware', 'file']) {
    const l = compliant();
    l.components[1] = { ...l.components[1], type, hashes: [], properties: [] };
    assert.ok(reasons(l).includes('MissingDeployableHash'), `${type} is not stated logical`);
  }
  // A logical component still needs the §3.2.2 fields: creator, name, version, dependencies, licences.
  const l = compliant();
  l.components[1] = { ...l.components[1], type: 'operating-system', hashes: [], properties: [], licenses: [] };
  assert.deepEqual(reasons(l), ['MissingDistributionLicence']);
});

test('item 7: SPDX 2.3 primaryPackagePurpose OPERATING-SYSTEM states a logical component, LIBRARY does not', () => {
  const spdx = JSON.parse(fixture('generated', 'syft-cra-gate-lock.spdx.json').toString('utf8')) as Doc;
  const pkg = spdx.packages.find((p: Doc) => !spdx.documentDescribes?.includes(p.SPDXID)) as Doc;
  pkg.primaryPackagePurpose = 'OPERATING-SYSTEM';
  const m = model(spdx);
  assert.equal(componentKind(m.components.find((c) => c.ref === pkg.SPDXID)!), 'logical');
  pkg.primaryPackagePurpose = 'LIBRARY';
  assert.equal(componentKind(model(spdx).components.find((c) => c.ref === pkg.SPDXID)!), 'full');
});

test('item 7: §5.2.4 source code and deployable-form URIs, when present, must be valid URIs (finding names the field)', () => {
  assert.ok(isValidUri('https://openssl-library.org/source/openssl-3.0.13.tar.gz'));
  assert.ok(isValidUri('git+https://github.com/madler/zlib.git'));
  assert.ok(isValidUri('https://xn--bcher-kva.example/zlib.tar.gz'));
  for (const bad of ['not a uri', '/relative/path', 'https://bücher.example/zlib.tar.gz', 'https://a.example/a b', '', 'x'.repeat(9000)]) {
    assert.equal(isValidUri(bad), false, bad);
  }
  const d = compliant();
  d.components[0].externalReferences[0].url = 'https://bücher.example/openssl.tar.gz';
  d.components[1].externalReferences = [{ type: 'source-distribution', url: 'source tarball on request' }];
  const fs = ruleBsiFields(model(d), 'bsi-2.1').filter((f) => f.reason === 'InvalidComponentUri');
  assert.deepEqual(
    fs.map((f) => [f.pointer, f.basis.ref]),
    [
      ['/components/0/externalReferences/0/url', 'BSI TR-03183-2 v2.1.0 §5.2.4'],
      ['/components/1/externalReferences/0/url', 'BSI TR-03183-2 v2.1.0 §5.2.4'],
    ],
  );
  assert.match(fs[0]!.message, /deployable-form URI that is not a valid URI/);
  assert.match(fs[1]!.message, /source code URI that is not a valid URI/);
  // Absent URIs are not required (§5.2.4: "if it exists").
  const none = compliant();
  delete none.components[0].externalReferences;
  none.components[0].hashes = [{ alg: 'SHA-512', content: 'b'.repeat(128) }];
  assert.deepEqual(reasons(none), []);
  // SPDX 2 downloadLocation: NOASSERTION is no statement; a non-URI is a finding.
  const spdx = JSON.parse(fixture('generated', 'syft-cra-gate-lock.spdx.json').toString('utf8')) as Doc;
  spdx.packages[0].downloadLocation = 'somewhere on the intranet';
  const sm = model(spdx);
  const bad = ruleBsiFields(sm, 'bsi-2.1').find((f) => f.reason === 'InvalidComponentUri');
  assert.equal(bad?.pointer, '/packages/0/downloadLocation');
});

test('item 12: TR §3.2.9 "Author" is the creator: authors[] with an email satisfy SBOM and component creator', () => {
  const d = compliant();
  delete d.metadata.manufacturer;
  d.metadata.authors = [{ name: 'ACME release engineering', email: 'build@acme.example' }];
  delete d.components[0].manufacturer;
  d.components[0].authors = [{ name: 'OpenSSL maintainers', email: 'openssl-security@openssl.org' }];
  assert.deepEqual(reasons(d), []);
  // Without an email, an author names nobody to contact: still no creator (and the finding names the field).
  d.metadata.authors = [{ name: 'ACME release engineering' }];
  d.components[0].authors = [{ name: 'OpenSSL maintainers', email: 'not-an-email' }];
  const fs = ruleBsiFields(model(d), 'bsi-2.1');
  assert.deepEqual(fs.map((f) => [f.reason, f.pointer]), [['MissingSbomCreator', '/metadata/manufacturer'], ['MissingComponentCreator', '/components/0']]);
});

test('top-level dependencies (CRA Annex I Part II(1)): a direct dependency that names no component is a finding', () => {
  const d = compliant();
  d.dependencies[0].dependsOn = ['openssl', 'libcrypto-missing'];
  const f = ruleTopLevelDeps(model(d));
  assert.deepEqual(f.map((x) => [x.reason, x.pointer, x.basis.kind]), [['DanglingReference', '/dependencies/0', 'cra']]);
  assert.match(f[0]!.message, /libcrypto-missing/);
  assert.deepEqual(ruleTopLevelDeps(model(compliant())), []);
});
