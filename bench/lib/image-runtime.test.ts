import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseImageRuntime, readImageRuntime } from './image-runtime.ts';

test('reads the final stage: ENTRYPOINT node flags and ENV pairs', () => {
  const rt = parseImageRuntime(`FROM a AS build
ENV BUILD_ONLY=1
ENTRYPOINT ["node", "--nope", "x.mjs"]
FROM b
ENV A=1 \\
    B="two"
ENTRYPOINT ["node", "--max-semi-space-size=8", "--x=1", "/app/bin/entrypoint.mjs"]
`);
  assert.deepEqual(rt.nodeFlags, ['--max-semi-space-size=8', '--x=1']);
  assert.deepEqual(rt.env, { A: '1', B: 'two' });
});

test('refuses a shell-form ENTRYPOINT or none', () => {
  assert.throws(() => parseImageRuntime('FROM a\nENTRYPOINT node x.mjs\n'));
  assert.throws(() => parseImageRuntime('FROM a\nCMD ["node"]\n'));
});

test('the repository Dockerfile parses', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const rt = readImageRuntime(path.join(root, 'Dockerfile'));
  assert.ok(rt.nodeFlags.some((f) => f.startsWith('--max-old-space-size-percentage=')));
});
