import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuiltinRules } from '../evidence/secure-defaults.ts';
import { parseManifests } from './parse.ts';
import { applyRules, compileRules, globToRegExp, parseRuleFile } from './rules.ts';

const builtin = compileRules(await loadBuiltinRules());

function settingsFindings(data: unknown, name = 'config.yaml'): string[] {
  return applyRules(builtin.rules, [], [{ name, data }]).map((v) => `${v.rule} ${v.pointer}`);
}

describe('configuration rules (JSON Schema)', () => {
  it('the built-in settings rules load from policies/rules', () => {
    assert.deepEqual(builtin.errors, []);
    assert.deepEqual(builtin.rules.map((r) => r.id).sort(), [
      'settings.admin-not-exposed', 'settings.auth-enabled', 'settings.cleartext-admin-off', 'settings.debug-interfaces-off',
      'settings.debug-off', 'settings.no-empty-password', 'settings.ssh-root-password-login-off', 'settings.telemetry-opt-in',
      'settings.tls-enabled', 'settings.upnp-off', 'settings.wifi-encrypted', 'settings.wps-off',
    ]);
  });

  it('TLS, auth, debug and telemetry rules find switches at any depth, in any key style', () => {
    assert.deepEqual(settingsFindings({
      listeners: [{ name: 'api', ssl: false }, { name: 'admin', tls: { enabled: 'true' } }],
      client: { insecure_skip_verify: true, callbackUrl: 'http://hooks.example.com/x', localUrl: 'http://localhost:8080' },
      postgres: { sslmode: 'disable' },
      security: { authentication: { type: 'none' } },
      ALLOW_ANONYMOUS_LOGIN: 'yes',
      logging: { logLevel: 'DEBUG' },
      NODE_ENV: 'development',
      analytics: { reporting_enabled: true },
    }, 'app.json').sort(), [
      'settings.auth-enabled /ALLOW_ANONYMOUS_LOGIN',
      'settings.auth-enabled /security/authentication/type',
      'settings.debug-off /NODE_ENV',
      'settings.debug-off /logging/logLevel',
      'settings.telemetry-opt-in /analytics', // fail closed: the section does not say it is off
      'settings.telemetry-opt-in /analytics/reporting_enabled',
      'settings.tls-enabled /client/callbackUrl',
      'settings.tls-enabled /client/insecure_skip_verify',
      'settings.tls-enabled /listeners/0/ssl',
      'settings.tls-enabled /postgres/sslmode',
    ].map((s) => s.replace(' /', ' /settings/app.json/')).sort());
  });

  it('secure settings pass', () => {
    assert.deepEqual(settingsFindings({ tls: true, auth: { enabled: true, mode: 'oidc' }, anonymous: { enabled: false }, debug: false, logLevel: 'info', telemetry: false, verifySsl: true }), []);
  });

  it('user rules select manifests by kind (and apiVersion); required members get their own pointer', () => {
    const docs = parseManifests([{ name: 'm.yaml', text: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n' }]);
    const loaded = compileRules([{ origin: 'test', document: { id: 'acme.revision-limit', message: 'set revisionHistoryLimit', cra: ['Annex I Part I(2)(b)'], select: { kinds: ['Deployment'], apiVersions: ['apps/v1'] }, schema: { properties: { spec: { required: ['revisionHistoryLimit'] } } } } }]);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(applyRules(loaded.rules, docs, []).map((v) => [v.rule, v.pointer, v.object]), [['acme.revision-limit', '/manifests/0/spec/revisionHistoryLimit', 'Deployment/d']]);
  });

  it('invalid rule documents are reported, not skipped', () => {
    const { errors } = compileRules([
      { origin: 'a', document: { id: 'x', message: 'm', cra: ['c'], select: {}, schema: {} } },
      { origin: 'b', document: { id: 'Bad Id', message: 'm', cra: ['c'], select: { kinds: ['Pod'] }, schema: {} } },
      { origin: 'c', document: { id: 'y', message: 'm', cra: ['c'], select: { kinds: ['Pod'] }, schema: { $schema: 'https://json-schema.org/draft/2020-12/schema' } } },
    ]);
    assert.equal(errors.length, 3);
    assert.match(errors[0]!, /^a: not a rule document/);
    assert.match(errors[1]!, /^b: not a rule document: \/id must match pattern/);
    assert.match(errors[2]!, /^c: rule y has an invalid schema: only JSON Schema draft-07 is supported/);
  });

  it('rule files may hold several documents or a rules: list; globs match settings names', () => {
    assert.equal(parseRuleFile('rules:\n- {id: a}\n- {id: b}\n', 'f').length, 2);
    assert.equal(parseRuleFile('id: a\n---\nid: b\n', 'f').length, 2);
    assert.ok(globToRegExp('*.yaml').test('defaults.yaml'));
    assert.ok(!globToRegExp('*.yaml').test('defaults.json'));
  });
});
