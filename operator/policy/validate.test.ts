import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePolicySpec } from './validate.ts';

void test('valid policies have no problems', () => {
  assert.deepEqual(validatePolicySpec({ checks: [{ id: 'update.channel' }] }), []);
  assert.deepEqual(
    validatePolicySpec({
      checks: [
        { id: 'update.channel', enforcement: 'Warn' },
        { id: 'vuln.no-known-exploited', enforcement: 'Block', effectiveFrom: '2026-09-11' },
        { id: 'update.support-period', params: { minimumMonths: 84 } },
        { id: 'sbom.present', enforcement: 'Off' },
      ],
      reevaluateEvery: '1h30m',
    }),
    [],
  );
});

void test('invalid policies name the field', () => {
  const table: [unknown, RegExp][] = [
    [null, /^spec: must be an object/],
    [{}, /^spec.checks: must be a list/],
    [{ checks: [] }, /empty; the policy would approve anything/],
    [{ checks: [{ id: 'a.b', enforcement: 'Off' }] }, /every check is Off/],
    [{ checks: [7] }, /spec.checks\[0\]: must be an object/],
    [{ checks: [{ id: 'Update.Channel' }] }, /spec.checks\[0\].id: "Update.Channel" is not a check id/],
    [{ checks: [{ id: 'nodot' }] }, /spec.checks\[0\].id/],
    [{ checks: [{ id: 'a.b' }, { id: 'a.b' }] }, /spec.checks\[1\].id: duplicate "a.b"/],
    [{ checks: [{ id: 'a.b', enforcement: 'block' }] }, /enforcement: "block" is not Block, Warn or Off/],
    [{ checks: [{ id: 'a.b', effectiveFrom: '2026-02-30' }] }, /effectiveFrom: "2026-02-30" is not a YYYY-MM-DD date/],
    [{ checks: [{ id: 'a.b', params: [1] }] }, /params: must be an object/],
    [{ checks: [{ id: 'a.b' }], reevaluateEvery: '6 hours' }, /spec.reevaluateEvery: "6 hours" is not a duration/],
  ];
  for (const [spec, re] of table) {
    const problems = validatePolicySpec(spec);
    assert.ok(problems.length >= 1, JSON.stringify(spec));
    assert.match(problems.join(' | '), re, JSON.stringify(spec));
  }
});

void test('at most five problems are reported', () => {
  const checks = Array.from({ length: 20 }, () => ({ id: 'BAD' }));
  assert.equal(validatePolicySpec({ checks }).length, 5);
});
