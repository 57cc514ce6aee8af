import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError, loadInputs } from './load.ts';
import { cliSources } from './sources.ts';
import { loadTrustPolicy } from '../evidence/signatures/trust.ts';
import type { ReleasePolicy } from '../api/types.ts';

function withFile<T>(text: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-cli-load-'));
  try {
    const file = path.join(dir, 'in.yaml');
    writeFileSync(file, text);
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const secretYaml = (data: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: cra-gate-signing-keys, namespace: cra-gate}\ntype: Opaque\n${data}\n`;

test('Secrets in the input files: data base64-decoded, stringData over data, as the API server stores them', () => {
  const b64 = Buffer.from(pub).toString('base64');
  const inputs = withFile(secretYaml(`data: {cosign.pub: ${b64}, other: ${Buffer.from('x').toString('base64')}}\nstringData: {other: plain}`), (f) => loadInputs([f]));
  assert.equal(inputs.secrets.get('cra-gate/cra-gate-signing-keys')?.['cosign.pub'], pub);
  assert.equal(inputs.secrets.get('cra-gate/cra-gate-signing-keys')?.other, 'plain');
  assert.deepEqual(inputs.ignored, [], 'a Secret is read, not ignored');
});

test('a malformed Secret is an InputError naming the key, never the value', () => {
  assert.throws(() => withFile(secretYaml('data: {cosign.pub: "not base64 s3cr3t!"}'), (f) => loadInputs([f])), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /Secret "cra-gate-signing-keys" is invalid: data\[cosign\.pub\]: Invalid value: not base64/);
    assert.doesNotMatch(err.message, /s3cr3t/);
    return true;
  });
  assert.throws(() => withFile(secretYaml('stringData: {k: v}\nspec: {}'), (f) => loadInputs([f])), /unknown field "spec"/);
  assert.throws(() => withFile(`${secretYaml('stringData: {k: v}')}---\n${secretYaml('stringData: {k: w}')}`, (f) => loadInputs([f])), /Secret cra-gate\/cra-gate-signing-keys is also defined at/);
});

test('the baseline\'s signing key Secret given as a file is the CLI\'s trust policy (a missing one is SigningConfigInvalid)', async () => {
  const policy = { spec: { checks: [], signing: { keys: [{ secretRef: { namespace: 'cra-gate', name: 'cra-gate-signing-keys', key: 'cosign.pub' } }] } } } as unknown as ReleasePolicy;
  const inputs = withFile(secretYaml(`stringData:\n  cosign.pub: |\n${pub.trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}`), (f) => loadInputs([f]));
  const trust = await loadTrustPolicy(policy, cliSources({ configMaps: new Map(), secrets: inputs.secrets }));
  assert.equal(trust.keys.length, 1);
  await assert.rejects(loadTrustPolicy(policy, cliSources({ configMaps: new Map() })), /Secret cra-gate\/cra-gate-signing-keys not found/);
});
