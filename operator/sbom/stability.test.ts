/**
 * Performance work on the SBOM analysis must not change a single finding: the `cra-gate sbom check --output json`
 * report of every fixture SBOM (test/fixtures/sbom), of the CycloneDX examples in the shared corpus when present
 * (/work/shared/corpus, CRA_GATE_SBOM_CORPUS), and of generated benchmark SBOMs (compliant, and with defects at
 * scale) is compared byte for byte, by SHA-256, with test/fixtures/sbom/findings.golden.json, recorded before the
 * optimisations. `UPDATE_GOLDEN=1` rewrites the file (only for an intended change of findings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate } from '../../bench/lib/sbom-gen.ts';
import { runSbomCheck } from '../cli/sbom.ts';
import { packagePath } from '../util/package-root.ts';

const GOLDEN = packagePath('test', 'fixtures', 'sbom', 'findings.golden.json');
const CORPUS = process.env.CRA_GATE_SBOM_CORPUS ?? '/work/shared/corpus/cyclonedx-bom-examples';

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(json|xml)$/.test(e.name) && !e.name.endsWith('.expected.json') && !e.name.endsWith('.golden.json'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function report(file: string, name: string, profile: string): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += `stderr:${s}`) } };
  const code = await runSbomCheck(['check', file, '--profile', profile, '--output', 'json'], io);
  return `${code}\n${out.split(file).join(name)}`;
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

test('SBOM findings are byte-identical to the recorded ones (fixtures, corpus, generated)', { timeout: 600_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cra-sbom-golden-'));
  try {
    const cases: { name: string; file: string; profiles: string[] }[] = [];
    const all = ['bsi-2.1', 'bsi-2.0', 'ntia'];
    for (const f of files(packagePath('test', 'fixtures', 'sbom'))) cases.push({ name: relative(packagePath(), f), file: f, profiles: all });
    for (const f of files(CORPUS)) cases.push({ name: `corpus/${relative(CORPUS, f)}`, file: f, profiles: all });
    for (const [n, defects, profiles] of [[3, false, all], [1000, false, all], [1000, true, all], [10_000, true, ['bsi-2.1']]] as const) {
      const name = `generated/sbom-${n}${defects ? '-defects' : ''}.cdx.json`;
      const file = join(tmp, name.replace('/', '-'));
      writeFileSync(file, generate(n, { defects }));
      cases.push({ name, file, profiles: [...profiles] });
    }
    const got: Record<string, string> = {};
    for (const c of cases) for (const p of c.profiles) got[`${c.name} ${p}`] = digest(await report(c.file, c.name, p));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(GOLDEN, `${JSON.stringify(got, null, 2)}\n`);
      return;
    }
    const want = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string>;
    // Every recorded case that exists here must match; the corpus may be absent on another machine.
    const checked = Object.keys(got).filter((k) => k in want);
    assert.ok(checked.length >= 100, `only ${checked.length} cases recorded`);
    for (const k of Object.keys(want)) if (!k.startsWith('corpus/')) assert.ok(k in got, `recorded case ${k} no longer produced`);
    const changed = checked.filter((k) => got[k] !== want[k]);
    assert.deepEqual(changed, [], `findings changed for: ${changed.join(', ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
