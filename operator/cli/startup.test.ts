/**
 * Start-up is what a CI step pays: `cra-gate sbom check` must load only what it uses. Runs the real CLI entry point
 * (bin/cra-gate.mjs) in a child process with a module hook that records every module loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../util/package-root.ts';

function loadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cra-startup-'));
  try {
    const log = join(dir, 'loaded.txt');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';\nimport { appendFileSync } from 'node:fs';\n` +
        `registerHooks({ load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); } });\n`,
    );
    writeFileSync(log, '');
    try {
      execFileSync(process.execPath, ['--import', hook, packagePath('bin', 'cra-gate.mjs'), ...args], { encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
    } catch (err) {
      // exit code 1 (findings) is fine here: only what was loaded matters
      if ((err as { status?: number }).status !== 1) throw err;
    }
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sbom check loads neither the engine, the Kubernetes client, sigstore, the XML parser nor (with precompiled validators) Ajv', { timeout: 300_000 }, () => {
  const file = packagePath('test', 'fixtures', 'sbom', 'handmade', 'compliant.cdx.json');
  loadedBy(['sbom', 'check', file]); // the first run may compile the validator into the development cache
  const loaded = loadedBy(['sbom', 'check', file]);
  assert.ok(loaded.some((u) => u.includes('/operator/sbom/analyze.')), 'the hook saw the analysis module');
  for (const unwanted of ['@kubernetes/client-node', '/sigstore/', '@sigstore/', '/operator/engine/', '/operator/checks/index.', '/operator/evidence/', 'fast-xml-parser', 'xmllint-wasm', '/ajv/dist/core.js', '/ajv/dist/compile/']) {
    const hit = loaded.find((u) => u.includes(unwanted));
    assert.equal(hit, undefined, `sbom check loaded ${hit}`);
  }
});
