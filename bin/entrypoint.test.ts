import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JavaScript module without declarations
import { dispatch as untypedDispatch } from './entrypoint.mjs';

const dispatch = untypedDispatch as (args: string[]) => { target: string; args: string[] };

test('no arguments, flags or `operator` start the operator', () => {
  assert.deepEqual(dispatch([]), { target: 'operator', args: [] });
  assert.deepEqual(dispatch(['--metrics-bind', '0.0.0.0:8080']), { target: 'operator', args: ['--metrics-bind', '0.0.0.0:8080'] });
  assert.deepEqual(dispatch(['operator', '--help']), { target: 'operator', args: ['--help'] });
});

test('a CLI verb (or `cli <verb>`) runs the CLI with the arguments unchanged', () => {
  assert.deepEqual(dispatch(['evaluate', '/data/release.yaml', '--output', 'sarif']), { target: 'cli', args: ['evaluate', '/data/release.yaml', '--output', 'sarif'] });
  assert.deepEqual(dispatch(['cli', 'checks']), { target: 'cli', args: ['checks'] });
  assert.deepEqual(dispatch(['frobnicate']), { target: 'cli', args: ['frobnicate'] });
});

test('the entrypoint runs both from the sources', () => {
  const script = fileURLToPath(new URL('./entrypoint.mjs', import.meta.url));
  const cli = spawnSync(process.execPath, [script, 'version'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^\d+\.\d+\.\d+/);
  const op = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8' });
  assert.equal(op.status, 0, op.stderr);
  assert.match(op.stdout + op.stderr, /cra-gate operator/);
  const bad = spawnSync(process.execPath, [script, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
