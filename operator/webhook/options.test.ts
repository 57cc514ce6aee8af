import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebhookConfig } from './options.ts';
import { classifyValue } from '../secure-defaults/credentials.ts';

test('decision key Secret name: flag, then CRA_GATE_DECISION_KEY_SECRET_NAME, then the earlier variable, then the default', () => {
  const key = (values: Record<string, string>, env: Record<string, string>) => parseWebhookConfig(values, env, 'cra-gate').signing.keySecret;
  assert.equal(key({}, {}), 'cra-gate-decision-key');
  assert.equal(key({}, { CRA_GATE_DECISION_KEY_SECRET: 'old' }), 'old');
  assert.equal(key({}, { CRA_GATE_DECISION_KEY_SECRET: 'old', CRA_GATE_DECISION_KEY_SECRET_NAME: 'new' }), 'new');
  assert.equal(key({ 'decision-key-secret': 'flag' }, { CRA_GATE_DECISION_KEY_SECRET_NAME: 'new' }), 'flag');
});

test('the chart\'s variable names a Secret: not a hard-coded secret for config.secure-defaults (the earlier name was)', () => {
  const opts = { entropy: true };
  assert.equal(classifyValue('CRA_GATE_DECISION_KEY_SECRET_NAME', 'cra-gate-decision-key', opts), undefined);
  assert.equal(classifyValue('CRA_GATE_DECISION_KEY_SECRET', 'cra-gate-decision-key', opts)?.rule, 'credentials.hardcoded-secret');
});
