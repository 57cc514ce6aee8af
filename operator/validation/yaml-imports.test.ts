import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const operatorDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOADER = path.join('validation', 'yaml.ts');
const PKG = ['js', 'yaml'].join('-'); // spelled apart so that this file does not match itself
const IMPORT = new RegExp(`(?:from\\s*|import\\s*\\(\\s*|require\\s*\\(\\s*)['"]${PKG}(?:/[^'"]*)?['"]`);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

describe('one YAML loader', () => {
  it('no module under operator/ but validation/yaml.ts imports js-yaml (every YAML read goes through it)', () => {
    const offenders = sources(operatorDir)
      .filter((f) => path.relative(operatorDir, f) !== LOADER)
      .filter((f) => IMPORT.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(operatorDir, f));
    assert.deepEqual(offenders, []);
  });

  it('the check itself notices an import', () => {
    assert.match(`import yaml from '${PKG}';`, IMPORT);
    assert.match(`const y = await import("${PKG}/dist/x.mjs")`, IMPORT);
    assert.doesNotMatch(`import { loadYaml } from '../validation/yaml.ts';`, IMPORT);
    assert.ok(sources(operatorDir).some((f) => path.relative(operatorDir, f) === LOADER));
  });
});
