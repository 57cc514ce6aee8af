import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSecureDefaults } from './config.ts';
import { ctx, goodRelease } from './testkit.ts';
import type { Evidence, Finding } from './types.ts';
import { loadBuiltinRules } from '../evidence/secure-defaults.ts';
import { parseManifests, parseSettings } from '../secure-defaults/parse.ts';
import type { SecureDefaultsEvidence } from '../secure-defaults/types.ts';
import { evaluate } from '../engine/evaluate.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'secure-defaults');
const read = (rel: string): string => readFileSync(path.join(fixtures, rel), 'utf8');
const builtin = await loadBuiltinRules();

const declared = goodRelease({
  secureDefaults: { manifests: { configMapRef: { name: 'm' } }, settings: { configMapRef: { name: 's', key: 'settings.yaml' } } },
});

function evidenceFor(fixture: string, extra: Partial<SecureDefaultsEvidence> = {}): Evidence {
  return {
    secureDefaults: {
      declared: { manifests: true, settings: true },
      manifests: { documents: parseManifests([{ name: 'manifests.yaml', text: read(`${fixture}/manifests.yaml`) }]), digest: 'sha256:m' },
      settings: { files: [parseSettings({ name: 'settings.yaml', text: read(`${fixture}/settings.yaml`) })], digest: 'sha256:s' },
      rules: builtin,
      ...extra,
    },
  };
}

const key = (f: Finding & { rule?: string }): string => `${f.rule} ${f.pointer}`;

describe('config.secure-defaults', () => {
  for (const fixture of ['insecure', 'hardened']) {
    it(`${fixture}: exactly the expected findings (one per rule, object and pointer)`, () => {
      const out = configSecureDefaults.run(ctx(declared, {}, undefined, evidenceFor(fixture)));
      const expected = (JSON.parse(read(`${fixture}/expected.json`)) as { rule: string; pointer: string }[]).map((e) => `${e.rule} ${e.pointer}`).sort();
      assert.deepEqual((out.findings ?? []).map(key).sort(), expected);
      assert.equal(out.result, expected.length === 0 ? 'Pass' : 'Fail', out.message);
      assert.equal(out.evidence, 'sha256:m sha256:s');
    });
  }

  it('insecure: the reason is the most serious category; the message summarises; no secret value anywhere', () => {
    const out = configSecureDefaults.run(ctx(declared, {}, undefined, evidenceFor('insecure')));
    assert.equal(out.reason, 'DefaultCredentials');
    assert.match(out.message, /^30 findings in 7 objects \(7 default credentials, 10 Pod Security, 4 settings, 9 hardening\); first: \[credentials\.default-password\] Secret\/shop-db/);
    const text = JSON.stringify(out);
    for (const secret of ['changeme', 's3cr3t-Pa55', 'q8Zr2LmX7vKp4TnW9sYb3HcJ6fDg1QeA', 'AKIAQX4T7LZ2M5N8P3RK', 'YWRtaW4=']) {
      assert.ok(!text.includes(secret), `the outcome never contains ${secret}`);
    }
  });

  it('hardened: the pass message says what was checked', () => {
    const out = configSecureDefaults.run(ctx(declared, {}, undefined, evidenceFor('hardened')));
    assert.equal(out.reason, 'Compliant');
    assert.equal(out.message, '6 objects and 1 settings file meet Pod Security restricted, hardening, credential and 12 configuration rules');
  });

  it('device defaults: one finding per insecure setting, in every spelling; the hardened counterpart passes', () => {
    const device = (name: string): Evidence => ({
      secureDefaults: {
        declared: { manifests: true, settings: true },
        manifests: { documents: parseManifests([{ name: 'manifests.yaml', text: read('hardened/manifests.yaml') }]), digest: 'sha256:m' },
        settings: { files: [parseSettings({ name: 'settings.yaml', text: read(`device/${name}.yaml`) })], digest: 'sha256:s' },
        rules: builtin,
      },
    });
    const out = configSecureDefaults.run(ctx(declared, {}, undefined, device('insecure')));
    const expected = (JSON.parse(read('device/expected.json')) as { rule: string; pointer: string }[]).map((e) => `${e.rule} ${e.pointer}`).sort();
    assert.deepEqual((out.findings ?? []).map(key).sort(), expected);
    assert.deepEqual([out.result, out.reason], ['Fail', 'InsecureSettings']);
    assert.match(out.message, /^13 findings in 1 object \(13 settings\)/);
    const ok = configSecureDefaults.run(ctx(declared, {}, undefined, device('hardened')));
    assert.equal(ok.result, 'Pass', ok.message);
  });

  it('a release without secureDefaults fails with a clear reason, never passes', () => {
    const out = configSecureDefaults.run(ctx(goodRelease(), {}, undefined, {}));
    assert.equal(out.result, 'Fail');
    assert.equal(out.reason, 'NoSecureDefaults');
    assert.deepEqual(out.findings?.map((f) => f.pointer), ['/spec/secureDefaults']);
  });

  it('evidence errors make it Error (fail closed) with the collector reason', () => {
    const evidence: Evidence = {
      errors: [{ source: 'secureDefaults.manifests', reason: 'MalformedSecureDefaults', message: 'manifests m.yaml: invalid YAML at line 3, column 1: bad' }],
    };
    const out = configSecureDefaults.run(ctx(declared, {}, undefined, evidence));
    assert.deepEqual([out.result, out.reason], ['Error', 'MalformedSecureDefaults']);
    assert.match(out.message, /line 3/);
    const none = configSecureDefaults.run(ctx(declared, {}, undefined, {}));
    assert.deepEqual([none.result, none.reason], ['Error', 'EvidenceUnavailable']);
  });

  it('params: baseline level relaxes the restricted controls; disabledRules drops rules and prefixes', () => {
    const restricted = configSecureDefaults.run(ctx(declared, {}, undefined, evidenceFor('insecure')));
    const baseline = configSecureDefaults.run(ctx(declared, { podSecurityLevel: 'baseline', disabledRules: ['hardening.*', 'settings.debug-off'] }, undefined, evidenceFor('insecure')));
    const rules = (o: typeof restricted): Set<string> => new Set((o.findings ?? []).map((f) => (f as { rule?: string }).rule ?? ''));
    assert.ok(rules(restricted).has('pss.run-as-non-root'));
    assert.deepEqual([...rules(baseline)].filter((r) => r.startsWith('pss.')).sort(), ['pss.capabilities-baseline', 'pss.host-namespaces', 'pss.host-path-volumes', 'pss.privileged']);
    assert.ok(![...rules(baseline)].some((r) => r.startsWith('hardening.') || r === 'settings.debug-off'));
    const bad = configSecureDefaults.run(ctx(declared, { podSecurityLevel: 'privileged' }, undefined, evidenceFor('hardened')));
    assert.deepEqual([bad.result, bad.reason], ['Error', 'InvalidCheckParams']);
  });

  it('inline params.rules extend the rule set; an invalid rule is an Error, not ignored', () => {
    const rule = {
      id: 'acme.deployments-revision-limit',
      message: 'Deployments keep at most 3 old ReplicaSets',
      cra: ['Annex I Part I(2)(b)'],
      select: { kinds: ['Deployment'] },
      schema: { required: ['spec'], properties: { spec: { required: ['revisionHistoryLimit'], properties: { revisionHistoryLimit: { maximum: 3 } } } } },
    };
    const out = configSecureDefaults.run(ctx(declared, { rules: [rule] }, undefined, evidenceFor('hardened')));
    assert.equal(out.result, 'Fail');
    assert.equal(out.reason, 'InsecureSettings');
    assert.deepEqual(out.findings?.map(key), ['acme.deployments-revision-limit /manifests/4/spec/revisionHistoryLimit']);
    const invalid = configSecureDefaults.run(ctx(declared, { rules: [{ ...rule, schema: { requird: ['spec'] } }] }, undefined, evidenceFor('hardened')));
    assert.deepEqual([invalid.result, invalid.reason], ['Error', 'InvalidRule']);
    assert.match(invalid.message, /params\.rules\[0\]: rule acme\.deployments-revision-limit has an invalid schema: strict mode: unknown keyword: "requird"/);
    const dup = configSecureDefaults.run(ctx(declared, { rules: [{ ...rule, id: 'settings.debug-off' }] }, undefined, evidenceFor('hardened')));
    assert.match(dup.message, /rule id settings\.debug-off is already defined by builtin:settings-debug\.yaml/);
  });

  it('runs through evaluate(): the policy entry blocks the release', () => {
    const policy = {
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'p', generation: 1 },
      spec: { checks: [{ id: 'config.secure-defaults', enforcement: 'Block' as const }] },
    } as unknown as Parameters<typeof evaluate>[0]['policy'];
    const e = evaluate({ release: declared, policy, policyName: 'p', now: new Date('2028-02-01T00:00:00Z'), evidence: evidenceFor('insecure') });
    assert.equal(e.decision, 'Blocked');
    assert.equal(e.checks[0]?.reason, 'DefaultCredentials');
    assert.equal(e.findings['config.secure-defaults']?.length, 30);
    const ok = evaluate({ release: declared, policy, policyName: 'p', now: new Date('2028-02-01T00:00:00Z'), evidence: evidenceFor('hardened') });
    assert.equal(ok.decision, 'Approved');
  });
});
