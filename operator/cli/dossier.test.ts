import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.ts';
import type { CliIO } from './io.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOW = '2028-06-01T12:00:00Z';
const FW = 'examples/cra-file/acme-firewall-3.1.0.yaml';
const POLICY = 'examples/cra-file/policy.yaml';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s), isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {}, cwd: root };
  const code = await run(args, io);
  return { code, out, err };
}

void test('dossier -o json: the class II example with its notified body, Approved, offline', async () => {
  const r = await cli(['dossier', FW, '-p', POLICY, '--offline', '--now', NOW, '-o', 'json']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out) as { verdict: { decision: string }; checks: { id: string; result: string }[]; declarationOfConformity: { fields: { ref: string; value?: string }[] }; technicalDocumentation: { fields: { label: string; value?: string }[] }[] };
  assert.equal(d.verdict.decision, 'Approved');
  assert.ok(d.checks.every((c) => c.result === 'Pass'), JSON.stringify(d.checks));
  assert.match(d.declarationOfConformity.fields.find((f) => f.ref === 'Annex V(7)')!.value!, /Example Notified Body GmbH \(0123\).*EU-TEC-0123-2028-0042/);
  const procedure = d.technicalDocumentation.flatMap((s) => s.fields).find((f) => f.label === 'Conformity assessment procedure')!;
  assert.match(procedure.value!, /Module B \+ C/);
});

void test('dossier: same inputs → the same file (reproducible); html and md written with --out / --out-dir', async () => {
  const a = await cli(['dossier', FW, '-p', POLICY, '--offline', '--now', NOW, '-o', 'md']);
  const b = await cli(['dossier', FW, '-p', POLICY, '--offline', '--now', NOW, '-o', 'md']);
  assert.equal(a.out, b.out);
  assert.match(a.out, /^# CRA file: acme-firewall 3\.1\.0/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-dossier-'));
  try {
    const one = await cli(['dossier', FW, '-p', POLICY, '--offline', '--now', NOW, '--out', path.join(dir, 'fw.html')]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.err, /wrote .*fw\.html \(Approved, \d+ item\(s\) to be provided\)/);
    assert.match(readFileSync(path.join(dir, 'fw.html'), 'utf8'), /<title>CRA file: acme-firewall 3\.1\.0<\/title>/);
    const many = await cli(['dossier', FW, 'examples/legacy-camera-1.0.0.yaml', '-p', POLICY, '-p', 'policies/cra-baseline.yaml', '--offline', '--now', NOW, '--out-dir', path.join(dir, 'out'), '-o', 'json']);
    assert.equal(many.code, 2, 'a Blocked release whose blocking checks could not run offline: not a final verdict');
    assert.deepEqual(readdirSync(path.join(dir, 'out')).sort(), ['acme_acme-firewall-3.1.0.json', 'acme_legacy-camera-1.0.0.json']);
    const camera = JSON.parse(readFileSync(path.join(dir, 'out', 'acme_legacy-camera-1.0.0.json'), 'utf8')) as { verdict: { decision: string }; checks: { id: string; result: string }[] };
    assert.equal(camera.verdict.decision, 'Blocked');
    assert.equal(camera.checks.find((c) => c.id === 'conformity.route')!.result, 'Fail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('dossier: usage errors are exit 2 with one line', async () => {
  const several = await cli(['dossier', FW, 'examples/legacy-camera-1.0.0.yaml', '-p', POLICY, '--offline']);
  assert.equal(several.code, 2);
  assert.match(several.err, /use --out-dir DIR/);
  const pdf = await cli(['dossier', FW, '-o', 'pdf']);
  assert.equal(pdf.code, 2);
  assert.match(pdf.err, /--output must be html, md or json/);
  const none = await cli(['dossier']);
  assert.equal(none.code, 2);
  assert.match(none.err, /dossier needs at least one file/);
});
