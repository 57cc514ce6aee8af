import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findPackageRoot, packagePath, packageRoot, siblingModuleUrl } from './package-root.ts';

test('packageRoot is the repository root in a checkout (crds/ and the SBOM schemas are there)', () => {
  const root = packageRoot();
  assert.equal(path.basename(packagePath('crds')), 'crds');
  assert.equal(packagePath('package.json'), path.join(root, 'package.json'));
});

test('findPackageRoot walks up past package.json files of other packages (the compiled dist/ layout)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cra-gate-root-'));
  try {
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cra-gate' }));
    const deep = path.join(dir, 'dist', 'operator', 'util');
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(dir, 'dist', 'package.json'), JSON.stringify({ name: 'something-else' }));
    assert.equal(findPackageRoot(deep), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findPackageRoot fails loudly when there is no cra-gate package.json', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cra-gate-noroot-'));
  try {
    assert.throws(() => findPackageRoot(dir, 1), /package root not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('siblingModuleUrl keeps the extension of the running module', () => {
  assert.equal(siblingModuleUrl('../sbom/worker', 'file:///p/operator/evidence/sbom.ts').href, 'file:///p/operator/sbom/worker.ts');
  assert.equal(siblingModuleUrl('../sbom/worker', 'file:///p/dist/operator/evidence/sbom.js').href, 'file:///p/dist/operator/sbom/worker.js');
});
