import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import satisfies from 'semver/functions/satisfies.js';
// @ts-expect-error plain JavaScript module without declarations
import { unsupportedReason } from './launch.mjs';

const reason = unsupportedReason as (command: string, env: object) => string | undefined;
const range = '^22.22.2 || ^24.15.0 || >=26.0.0';

test('an old Node.js gets one line naming the Node.js it needs', () => {
  const r = reason('cra-gate', { node: '20.20.2', typescript: undefined, range, fromSource: false, satisfies });
  assert.equal(r, `cra-gate: needs Node.js ${range}, but this is Node.js 20.20.2`);
  assert.ok(!r?.includes('\n'));
});

test('Node 22 runs the compiled package but not the sources without type stripping', () => {
  assert.equal(reason('cra-gate', { node: '22.22.2', typescript: undefined, range, fromSource: false, satisfies }), undefined);
  assert.match(reason('cra-gate', { node: '22.22.2', typescript: undefined, range, fromSource: true, satisfies }) ?? '', /needs Node\.js 24 \(type stripping\)/);
  assert.equal(reason('cra-gate', { node: '24.21.0', typescript: 'strip', range, fromSource: true, satisfies }), undefined);
  assert.match(reason('cra-gate', { node: '25.1.0', typescript: 'strip', range, fromSource: false, satisfies }) ?? '', /needs Node\.js/);
});

test('the bin shim runs the CLI from the sources on this Node.js', () => {
  const bin = fileURLToPath(new URL('./cra-gate.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});
