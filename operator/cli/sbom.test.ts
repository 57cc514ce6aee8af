import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runSbomCheck } from './sbom.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const handmade = join(root, 'test', 'fixtures', 'sbom', 'handmade');

interface Expected {
  profile?: string;
  exit: number;
  error?: string;
  findings: { check: string; reason: string; pointer: string; count: number }[];
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSbomCheck(args, { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) } });
  return { code, out, err };
}

const key = (f: { check: string; reason: string; pointer: string; count: number }) => `${f.check}|${f.reason}|${f.pointer}|${f.count}`;

for (const name of readdirSync(handmade).filter((n) => !n.endsWith('.expected.json') && !n.endsWith('.ts')).sort()) {
  const expFile = join(handmade, name.replace(/\.(json|xml)$/, '.expected.json'));
  if (!existsSync(expFile)) continue;
  const exp = JSON.parse(readFileSync(expFile, 'utf8')) as Expected;
  test(`fixture ${name}: exit ${exp.exit}, ${exp.findings.length} finding(s)`, async () => {
    const r = await run(['check', join(handmade, name), '--output', 'json', ...(exp.profile ? ['--profile', exp.profile] : [])]);
    assert.equal(r.code, exp.exit, r.out + r.err);
    const doc = JSON.parse(r.out) as { findings?: Expected['findings']; error?: { reason: string } };
    if (exp.error) assert.equal(doc.error?.reason, exp.error);
    assert.deepEqual((doc.findings ?? []).map(key).sort(), exp.findings.map(key).sort());
    for (const f of doc.findings ?? []) assert.ok(f.pointer.startsWith('/'), `finding pointer ${f.pointer}`);
  });
}

test('text output names each check and the verdict', async () => {
  const ok = await run(['check', join(handmade, 'compliant.cdx.json')]);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /PASS {2}sbom\.bsi-tr-03183-fields/);
  assert.match(ok.out, /compliant\n$/);
  const bad = await run(['check', join(handmade, 'missing-hash.cdx.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /FAIL {2}sbom\.bsi-tr-03183-fields\n\s+MissingDeployableHash: components lack a SHA-512 deployable hash \(\/components\/0\)/);
});

test('usage errors exit 2', async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['check', join(handmade, 'compliant.cdx.json'), '--profile', 'bsi-9'])).code, 2);
  assert.equal((await run(['check', join(handmade, 'compliant.cdx.json'), '--output', 'yaml'])).code, 2);
  assert.equal((await run(['check', join(handmade, 'does-not-exist.json')])).code, 2);
  assert.equal((await run(['--help'])).code, 0);
});

test('real generator output (cyclonedx-npm on this project) is valid CycloneDX 1.6 and reports TR gaps', async () => {
  const r = await run(['check', join(root, 'test', 'fixtures', 'sbom', 'generated', 'cra-gate.cdx.json'), '--output', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.out) as { format: string; specVersion: string; schema: { valid: boolean }; checks: { id: string; result: string }[]; findings: Expected['findings'] };
  assert.equal(doc.format, 'CycloneDX');
  assert.equal(doc.specVersion, '1.6');
  assert.equal(doc.schema.valid, true);
  assert.equal(doc.checks.find((c) => c.id === 'sbom.format-valid')?.result, 'Pass');
  assert.equal(doc.checks.find((c) => c.id === 'sbom.licence-ids')?.result, 'Pass');
  // cyclonedx-npm writes no bsi:component:* properties: the TR check must say so.
  assert.ok(doc.findings.some((f) => f.reason === 'MissingExecutableProperty'));
});

test('real generator output (syft on this project\'s lock file): schema-valid CycloneDX 1.6 and SPDX 2.3, TR gaps found', async () => {
  const gen = join(root, 'test', 'fixtures', 'sbom', 'generated');
  const cdx = await run(['check', join(gen, 'syft-cra-gate-lock.cdx.json'), '--output', 'json']);
  assert.equal(cdx.code, 1);
  const c = JSON.parse(cdx.out) as { format: string; specVersion: string; schema: { kind: string; valid: boolean }; checks: { id: string; result: string }[] };
  assert.deepEqual([c.format, c.specVersion, c.schema.kind, c.schema.valid], ['CycloneDX', '1.6', 'official', true]);
  assert.equal(c.checks.find((x) => x.id === 'sbom.format-valid')?.result, 'Pass');
  assert.equal(c.checks.find((x) => x.id === 'sbom.bsi-tr-03183-fields')?.result, 'Fail');
  const spdx = await run(['check', join(gen, 'syft-cra-gate-lock.spdx.json'), '--output', 'json']);
  assert.equal(spdx.code, 1);
  const d = JSON.parse(spdx.out) as { format: string; specVersion: string; schema: { kind: string; valid: boolean }; checks: { id: string; result: string }[] };
  assert.deepEqual([d.format, d.specVersion, d.schema.kind, d.schema.valid], ['SPDX', '2.3', 'official', true]);
  // TR v2.1.0 asks for SPDX 3.0.1 or newer; TR v2.0.0 accepts SPDX 2.3.
  assert.equal(d.checks.find((x) => x.id === 'sbom.format-valid')?.result, 'Pass');
  assert.equal(d.checks.find((x) => x.id === 'sbom.format-version')?.result, 'Fail');
  const v20 = JSON.parse((await run(['check', join(gen, 'syft-cra-gate-lock.spdx.json'), '--profile', 'bsi-2.0', '--output', 'json'])).out) as typeof d;
  assert.equal(v20.checks.find((x) => x.id === 'sbom.format-version')?.result, 'Pass');
});

test('the cra-gate bin dispatches `sbom check` (child process)', async () => {
  const node = join(root, 'node_modules', '.bin', 'node');
  const main = join(root, 'operator', 'cli', 'main.ts');
  const exec = promisify(execFile);
  const ok = await exec(node, [main, 'sbom', 'check', join(handmade, 'compliant.cdx.json'), '--output', 'json'], { timeout: 60_000 });
  assert.equal((JSON.parse(ok.stdout) as { compliant: boolean }).compliant, true);
  await assert.rejects(exec(node, [main, 'sbom', 'check', join(handmade, 'truncated.cdx.json')], { timeout: 60_000 }), (e: { code?: number }) => e.code === 2);
});

test('published CycloneDX examples: valid 1.4, too old for TR v2.1.0; a VEX document is flagged as vulnerability data', async () => {
  const pub = join(root, 'test', 'fixtures', 'sbom', 'published');
  const laravel = JSON.parse((await run(['check', join(pub, 'laravel-7.12.0.cdx-1.4.json'), '--output', 'json'])).out) as { schema: { valid: boolean }; checks: { id: string; result: string; reason: string }[] };
  assert.equal(laravel.schema.valid, true);
  assert.equal(laravel.checks.find((c) => c.id === 'sbom.format-valid')?.result, 'Pass');
  assert.equal(laravel.checks.find((c) => c.id === 'sbom.format-version')?.reason, 'SbomFormatTooOld');
  assert.equal(laravel.checks.find((c) => c.id === 'sbom.licence-ids')?.result, 'Pass');
  const vex = JSON.parse((await run(['check', join(pub, 'cisa-vex-case-4.cdx.json'), '--output', 'json'])).out) as { checks: { id: string; reason: string }[] };
  assert.equal(vex.checks.find((c) => c.id === 'sbom.no-vuln-data')?.reason, 'VulnerabilityDataInSbom');
});
