/**
 * Issue #13 item 14: every finding says what it rests on — the CRA's own text or a guideline that makes it
 * concrete — and the policy packs block on the CRA text (cra-baseline) or on BSI TR-03183-2 too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '../validation/yaml.ts';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { renderChecksDoc, renderExplain } from '../cli/catalogue.ts';
import { checkRegistry, listChecks } from './index.ts';
import { ctx, goodRelease } from './testkit.ts';
import { findingBasis, formatBasis, outcomeBasisKind } from './types.ts';
import type { Evidence } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fx = join(root, 'test', 'fixtures', 'sbom', 'handmade');
const CRA_REF = /^(Art\. \d+(\(\d+\))*( point \([a-z]\))?|Annex [IVX]+( Part [IVX]+)?(\(\d+\))?(\([a-z]\))*(,\([a-z0-9]+\))*)$/;

const SBOM_GUIDANCE_ONLY = ['sbom.format-version', 'sbom.bsi-tr-03183-fields', 'sbom.complete', 'sbom.licence-ids', 'sbom.no-vuln-data', 'artifact.hash-matches-sbom'];
const SBOM_CRA_TEXT = ['sbom.present', 'sbom.format-valid', 'sbom.top-level-deps', 'sbom.per-version'];

test('check definitions: `cra` cites only the Regulation, `standards` only guidance', () => {
  for (const c of listChecks()) {
    for (const r of c.cra) assert.match(r, CRA_REF, `${c.id}: cra entry ${JSON.stringify(r)} is not a CRA article/annex reference`);
    for (const s of c.standards) assert.doesNotMatch(s, /^(Art\.|Annex )/, `${c.id}: standards entry ${JSON.stringify(s)} is CRA text`);
    assert.ok(c.cra.length + c.standards.length > 0, `${c.id} rests on nothing`);
    if (c.cra.length === 0) assert.ok((c.concretises ?? []).length > 0, `${c.id}: a guidance-only check names the CRA provision it makes concrete`);
  }
});

test('SBOM checks: the TR rules are guidance only; what Annex I Part II(1) says is CRA text', () => {
  for (const id of SBOM_GUIDANCE_ONLY) {
    const c = checkRegistry.get(id)!;
    assert.deepEqual(c.cra, [], id);
    assert.ok(c.standards.every((s) => /BSI TR-03183-2 v2\.1\.0 §|NTIA/.test(s)), id);
    assert.deepEqual(c.concretises, ['Annex I Part II(1)'], id);
    assert.match(renderExplain(c), /CRA text: {5}— \(guidance only\)/);
  }
  for (const id of SBOM_CRA_TEXT) assert.ok(checkRegistry.get(id)!.cra.includes('Annex I Part II(1)'), id);
});

const ev = (file: string): Evidence => ({
  sboms: [{ artifact: 'firmware', source: 'ConfigMap acme/fw-sbom key bom.json', specPointer: '/spec/sboms/0', analysis: analyzeSbom(readFileSync(join(fx, file))) } satisfies SbomEvidence],
});
const rel = goodRelease({
  artifacts: [{ name: 'firmware', url: 'https://downloads.acme.example/router/2.4.0/fw.bin', digest: `sha512:${'a'.repeat(128)}` }],
  sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw-sbom', key: 'bom.json' } }],
});
const run = (id: string, e: Evidence, params = {}) => checkRegistry.get(id)!.run(ctx(rel, params, undefined, e));

test('each SBOM finding names its basis: TR section for TR rules, Annex I Part II(1) for the CRA text', () => {
  const cases: [string, string, string, 'cra' | 'guidance', RegExp][] = [
    ['sbom.format-version', 'old-version.cdx.json', 'SbomFormatTooOld', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §4$/],
    ['sbom.format-valid', 'schema-invalid.cdx.json', 'SbomSchemaInvalid', 'cra', /^Annex I Part II\(1\)$/],
    ['sbom.bsi-tr-03183-fields', 'missing-hash.cdx.json', 'MissingDeployableHash', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §5\.2\.2$/],
    ['sbom.bsi-tr-03183-fields', 'missing-creator.cdx.json', 'MissingSbomCreator', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §5\.2\.1$/],
    ['sbom.licence-ids', 'licence-name.cdx.json', 'NonSpdxLicence', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §6\.1$/],
    ['sbom.no-vuln-data', 'vulnerabilities.cdx.json', 'VulnerabilityDataInSbom', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §8\.1\.14$/],
    ['sbom.complete', 'unreachable.cdx.json', 'UnreachableComponent', 'guidance', /^BSI TR-03183-2 v2\.1\.0 §5\.1$/],
    ['sbom.top-level-deps', 'no-top-deps.cdx.json', 'MissingTopLevelDependencies', 'cra', /^Annex I Part II\(1\)$/],
  ];
  for (const [id, file, reason, kind, ref] of cases) {
    const o = run(id, ev(file));
    assert.equal(o.result, 'Fail', `${id} on ${file}`);
    const f = o.findings?.find((x) => (x as { reason?: string }).reason === reason) ?? o.findings?.[0];
    assert.ok(f, `${id}: a finding`);
    assert.equal(o.reason, reason, `${id} on ${file}`);
    assert.equal(f.basis?.kind, kind, `${id}: basis kind`);
    assert.match(f.basis?.ref ?? '', ref, `${id}: basis ref`);
    assert.equal(outcomeBasisKind(checkRegistry.get(id)!, o.findings), kind);
  }
  const ntia = run('sbom.bsi-tr-03183-fields', ev('ntia-missing.cdx.json'), { profile: 'ntia' });
  assert.deepEqual(ntia.findings?.[0]?.basis, { kind: 'guidance', ref: 'NTIA SBOM minimum elements (2021)' });
  const v20 = run('sbom.bsi-tr-03183-fields', ev('missing-hash.cdx.json'), { profile: 'bsi-2.0' });
  assert.match(v20.findings?.[0]?.basis?.ref ?? '', /^BSI TR-03183-2 v2\.0\.0 §/);
});

test('findingBasis / formatBasis: defaults from the definition; guidance is labelled as such', () => {
  assert.deepEqual(findingBasis({ cra: ['Art. 13(8)'], standards: ['RFC 9116'] }, {}), { kind: 'cra', ref: 'Art. 13(8)' });
  assert.deepEqual(findingBasis({ cra: [], standards: ['RFC 9116'] }, {}), { kind: 'guidance', ref: 'RFC 9116' });
  assert.equal(findingBasis({ cra: [], standards: [] }, {}), undefined);
  assert.equal(formatBasis({ kind: 'cra', ref: 'Annex I Part II(1)' }), 'CRA Annex I Part II(1)');
  assert.equal(formatBasis({ kind: 'guidance', ref: 'RFC 9116' }), 'RFC 9116 (guidance)');
  assert.equal(outcomeBasisKind({ cra: [], standards: ['x'] }, undefined), 'guidance');
  assert.equal(outcomeBasisKind({ cra: ['Art. 13(8)'], standards: [] }, []), 'cra');
});

interface Pack {
  metadata: { name: string };
  spec: { checks: { id: string; enforcement: string; params?: Record<string, unknown> }[] };
}
const pack = (name: string) => loadYaml(readFileSync(join(root, 'policies', `${name}.yaml`), 'utf8')) as Pack;

test('cra-baseline blocks only on CRA text and warns on guidance-only SBOM rules; bsi-tr-03183-2 blocks on the TR too', () => {
  const base = pack('cra-baseline');
  const bsi = pack('bsi-tr-03183-2');
  assert.equal(bsi.metadata.name, 'bsi-tr-03183-2');
  for (const e of base.spec.checks) {
    const def = checkRegistry.get(e.id);
    assert.ok(def, `cra-baseline names unknown check ${e.id}`);
    if (e.enforcement === 'Block') assert.ok(def.cra.length > 0, `cra-baseline blocks on ${e.id}, which rests on guidance only`);
  }
  for (const id of SBOM_GUIDANCE_ONLY) {
    assert.equal(base.spec.checks.find((e) => e.id === id)?.enforcement, 'Warn', `cra-baseline: ${id}`);
    assert.equal(bsi.spec.checks.find((e) => e.id === id)?.enforcement, 'Block', `bsi-tr-03183-2: ${id}`);
  }
  for (const id of SBOM_CRA_TEXT) {
    assert.equal(base.spec.checks.find((e) => e.id === id)?.enforcement, 'Block', id);
    assert.equal(bsi.spec.checks.find((e) => e.id === id)?.enforcement, 'Block', id);
  }
  // Beyond the SBOM checks, the TR pack is the baseline.
  const rest = (p: Pack) => p.spec.checks.filter((e) => !SBOM_GUIDANCE_ONLY.includes(e.id));
  assert.deepEqual(rest(bsi), rest(base));
  assert.equal(bsi.spec.checks.find((e) => e.id === 'sbom.bsi-tr-03183-fields')?.params?.profile, 'bsi-2.1');
});

test('docs/checks.md shows both columns, CRA text and guidance', () => {
  const doc = renderChecksDoc();
  assert.match(doc, /^\| id \| title \| CRA text \| guidance \| in force from \|$/m);
  assert.match(doc, /^\| \[`sbom\.licence-ids`\]\(#sbomlicence-ids\) \| [^|]+ \| — \| BSI TR-03183-2 v2\.1\.0 §6\.1 \(makes Annex I Part II\(1\) concrete\) \|/m);
  assert.equal(readFileSync(join(root, 'docs', 'checks.md'), 'utf8'), doc, 'docs/checks.md is stale: npm run gen:checks-doc');
});
