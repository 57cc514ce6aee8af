/**
 * The installable package (issue 18): `npm pack` builds the compiled JavaScript (prepack → tsc with
 * rewriteRelativeImportExtensions), the tarball is installed into an empty directory like a user would, and the
 * installed `cra-gate` command runs on Node 22 and Node 24 — both real Node.js binaries from the npm `node` package —
 * with output identical to the repository's sources. On Node 20 every entry point says in one line which Node.js
 * it needs. Installs use the local npm cache first (`--prefer-offline`), so after `npm ci` this needs no network
 * except the first download of the two Node.js packages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../harness/fixture.ts';
import { npm, packTarball, runProcess as run, type Run } from '../harness/package.ts';

const quiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const fixtures = ['test/fixtures/cli/releases.yaml', '--policy', 'test/fixtures/cli/policies.yaml', '--configmap', 'test/fixtures/cli/configmaps.yaml', '--now', '2026-12-01T00:00:00Z'];

/** Installs the npm `node` package of the given major into its own prefix; returns the directory of its binary. */
async function installNode(dir: string, major: number): Promise<string> {
  const prefix = path.join(dir, `node${major}`);
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: `node${major}`, private: true }));
  const r = await run(npm, ['install', ...quiet, `node@${major}`], { cwd: prefix, timeoutMs: 300_000 });
  assert.equal(r.code, 0, `npm install node@${major}: ${r.stderr}`);
  const bin = path.join(prefix, 'node_modules', '.bin');
  const v = await run(path.join(bin, 'node'), ['--version']);
  assert.match(v.stdout, new RegExp(`^v${major}\\.`), `node@${major} binary: ${v.stdout}${v.stderr}`);
  return bin;
}

describe('the packed npm package', { timeout: 900_000 }, () => {
  let dir = '';
  let app = '';
  let tarball = '';
  const nodeBins = new Map<number, string>();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cra-gate-package-'));
    tarball = await packTarball(dir);
    app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'cra-gate-user', private: true }));
    const installed = await run(npm, ['install', ...quiet, '--ignore-scripts', tarball], { cwd: app, timeoutMs: 300_000 });
    assert.equal(installed.code, 0, `npm install <tarball>: ${installed.stderr}`);
    for (const major of [20, 22, 24]) nodeBins.set(major, await installNode(dir, major));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the installed `cra-gate` (its node_modules/.bin link, `#!/usr/bin/env node`) with Node `major` first on PATH. */
  function cli(major: number, args: string[], command = 'cra-gate'): Promise<Run> {
    const env = { ...process.env, PATH: `${nodeBins.get(major)!}${path.delimiter}${process.env.PATH ?? ''}`, NO_COLOR: '1' };
    return run(path.join(app, 'node_modules', '.bin', command), args, { env, cwd: repoRoot });
  }

  it('ships compiled JavaScript and the run-time data files, no TypeScript sources or tests', async () => {
    const r = await run('tar', ['tzf', tarball]);
    const files = r.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'bin/cra-gate.mjs',
      'bin/launch.mjs',
      'dist/operator/cli/main.js',
      'dist/operator/cli/main.d.ts',
      'dist/operator/sbom/worker.js',
      'crds/productreleases.cra-gate.dev.yaml',
      'policies/cra-baseline.yaml',
      'policies/rules/settings-tls.yaml',
      'operator/sbom/schemas/spdx-schema-2.3.json',
    ]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    const stray = files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.test\./.test(f) || f.startsWith('test/'));
    assert.deepEqual(stray, []);
  });

  for (const major of [22, 24]) {
    describe(`installed, on Node ${major}`, () => {
      it('cra-gate --version and checks', async () => {
        const v = await cli(major, ['--version']);
        assert.equal(v.code, 0, v.stderr);
        assert.equal(v.stdout.trim(), version);
        const installed = await cli(major, ['checks', '--output', 'json']);
        assert.equal(installed.code, 0, installed.stderr);
        const source = await run(process.execPath, ['bin/cra-gate.mjs', 'checks', '--output', 'json']);
        assert.equal(source.code, 0, source.stderr);
        assert.ok((JSON.parse(installed.stdout) as unknown[]).length > 10);
        assert.equal(installed.stdout, source.stdout);
      });

      it('evaluate gives the same verdicts and statuses as the sources', async () => {
        const installed = await cli(major, ['evaluate', ...fixtures, '--output', 'json']);
        const source = await run(process.execPath, ['bin/cra-gate.mjs', 'evaluate', ...fixtures, '--output', 'json']);
        assert.equal(source.code, 1, source.stderr);
        assert.equal(installed.code, 1, installed.stderr);
        assert.equal(installed.stdout, source.stdout);
        const decisions = (JSON.parse(installed.stdout) as { items: { status: { decision: string } }[] }).items.map((i) => i.status.decision);
        assert.ok(decisions.includes('Approved') && decisions.includes('Blocked'), decisions.join());
      });

      it('evaluate on the shipped example and policy, offline, as SARIF (CRD validation and rules from the package)', async () => {
        const pkg = path.join(app, 'node_modules', 'cra-gate');
        const r = await cli(major, ['evaluate', 'examples/acme-router-2.4.0.yaml', '--policy', path.join(pkg, 'policies', 'cra-baseline.yaml'), '--offline', '--output', 'sarif']);
        // --offline leaves the registry/HTTPS checks in Error: a verdict that is not final → exit 2, never a pass.
        assert.equal(r.code, 2, r.stderr);
        const sarif = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
        assert.equal(sarif.version, '2.1.0');
        assert.ok(sarif.runs[0]!.results.length > 0);
        const bad = await cli(major, ['evaluate', 'test/fixtures/cli/unknown-field.yaml']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /unknown field/i);
      });

      it('sbom check reads the vendored SPDX schemas; the SBOM worker module loads from dist', async () => {
        const r = await cli(major, ['sbom', 'check', 'test/fixtures/sbom/generated/syft-cra-gate-lock.spdx.json', '--output', 'json']);
        const out = JSON.parse(r.stdout) as { schema: { kind: string; valid: boolean } };
        assert.deepEqual(out.schema, { ...out.schema, kind: 'official', valid: true });
        const worker = pathToFileURL(path.join(app, 'node_modules', 'cra-gate', 'dist', 'operator', 'evidence', 'sbom.js')).href;
        // A module file, not `node -e`: the worker inherits the parent's execArgv.
        const script = path.join(dir, 'worker-check.mjs');
        writeFileSync(
          script,
          `import { readFileSync } from 'node:fs';
const { analyzeInWorker } = await import(${JSON.stringify(worker)});
const a = await analyzeInWorker(new Uint8Array(readFileSync(process.argv[2])));
console.log(JSON.stringify({ ok: a.ok, reason: a.reason, message: a.message }));
`,
        );
        const w = await run(path.join(nodeBins.get(major)!, 'node'), [script, 'test/fixtures/sbom/generated/syft-cra-gate-lock.spdx.json']);
        assert.equal(w.code, 0, w.stderr);
        assert.deepEqual(JSON.parse(w.stdout), { ok: true });
      });

      it('cra-gate-operator --help', async () => {
        const r = await cli(major, ['--help'], 'cra-gate-operator');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout + r.stderr, /cra-gate operator/);
      });
    });
  }

  describe('on Node 20 (too old)', () => {
    for (const [what, cmd, args] of [
      ['installed cra-gate', 'cra-gate', ['--version']],
      ['installed cra-gate-operator', 'cra-gate-operator', ['--help']],
    ] as const) {
      it(`${what} says in one line which Node.js it needs`, async () => {
        const r = await cli(20, [...args], cmd);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^cra-gate(-operator)?: needs Node\.js \^22\.22\.2 \|\| \^24\.15\.0 \|\| >=26\.0\.0, but this is Node\.js 20\.\d+\.\d+\n$/);
      });
    }
    for (const script of ['bin/cra-gate.mjs', 'bin/cra-gate-operator.mjs', 'scripts/demo.mjs']) {
      it(`the checkout's ${script} says in one line which Node.js it needs`, async () => {
        const r = await run(path.join(nodeBins.get(20)!, 'node'), [script, '--help']);
        assert.equal(r.code, 2);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, /needs Node\.js .*, but this is Node\.js 20\./);
        assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
      });
    }
  });
});
