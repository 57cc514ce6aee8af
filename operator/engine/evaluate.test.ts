import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_REQUEUE_MS, MIN_REEVALUATE_MS, evaluate } from './evaluate.ts';
import { buildRegistry } from '../checks/index.ts';
import { goodRelease, release } from '../checks/testkit.ts';
import type { CheckDefinition, CheckOutcome } from '../checks/types.ts';
import type { PolicyCheckEntry, ReleasePolicy } from '../checks/api.ts';

function policy(checks: PolicyCheckEntry[], extra: Partial<ReleasePolicy['spec']> = {}, generation = 4): ReleasePolicy {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'cra-baseline', generation },
    spec: { checks, ...extra },
  };
}

const baseline = policy([
  { id: 'cra.applicability' },
  { id: 'manufacturer.identity' },
  { id: 'update.channel' },
  { id: 'update.support-period' },
  { id: 'disclosure.contact' },
]);
const now = new Date('2028-02-01T10:00:00Z');

void test('missing policy ⇒ Pending, PolicyNotFound, naming the policy', () => {
  const e = evaluate({ release: goodRelease(), policy: undefined, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Pending');
  assert.equal(e.reason, 'PolicyNotFound');
  assert.equal(e.message, 'ReleasePolicy "cra-baseline" not found');
  assert.deepEqual(e.checks, []);
  assert.equal(e.requeueAfterMs, undefined);
  assert.equal(e.policy, undefined);
});

void test('invalid policy ⇒ Pending, PolicyInvalid, with the field path', () => {
  const e = evaluate({
    release: goodRelease(),
    policy: policy([{ id: 'update.channel', effectiveFrom: '2028-02-30' }, { id: 'update.channel' }]),
    policyName: 'p',
    now,
  });
  assert.equal(e.decision, 'Pending');
  assert.equal(e.reason, 'PolicyInvalid');
  assert.equal(e.message, 'ReleasePolicy "p" is invalid: spec.checks[0].effectiveFrom: "2028-02-30" is not a YYYY-MM-DD date (+1 more)');
  assert.deepEqual(e.policy, { name: 'p', generation: 4 });
});

void test('release without spec ⇒ Pending, InvalidSpec', () => {
  const e = evaluate({ release: { metadata: {} } as unknown as ReturnType<typeof goodRelease>, policy: baseline, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Pending');
  assert.equal(e.reason, 'InvalidSpec');
});

void test('invalid now never throws: Pending, Internal', () => {
  const e = evaluate({ release: goodRelease(), policy: baseline, policyName: 'cra-baseline', now: new Date(NaN) });
  assert.equal(e.decision, 'Pending');
  assert.equal(e.reason, 'Internal');
  assert.equal(e.retryable, true);
});

void test('the reference release is Approved by the baseline', () => {
  const e = evaluate({ release: goodRelease(), policy: baseline, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Approved', e.message);
  assert.equal(e.reason, 'AllChecksPassed');
  assert.equal(e.message, '5 checks passed');
  assert.deepEqual(e.summary, { passed: 5, failed: 0, warned: 0, waived: 0, errored: 0, skipped: 0 });
  assert.deepEqual(e.policy, { name: 'cra-baseline', generation: 4 });
  // update.support-period passes until the end of supportEnd (2033-01): re-evaluated then (capped wait)
  assert.equal(e.requeueAfterMs, MAX_REQUEUE_MS);
  assert.deepEqual(e.checks[0], {
    id: 'cra.applicability',
    result: 'Pass',
    enforcement: 'Block',
    reason: 'Compliant',
    message: 'placed on market 2028-01-15: all CRA obligations apply; no evidence time to compare it with',
    cra: ['Art. 69', 'Art. 71'],
    basis: 'CRA',
  });
});

void test('a non-compliant release is Blocked with every check listed in policy order', () => {
  const bad = goodRelease({ updates: { channel: 'http://updates.acme.example/x', automatic: true, supportEnd: '2030-01' } });
  const e = evaluate({ release: bad, policy: baseline, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Blocked');
  assert.equal(e.reason, 'PolicyViolation');
  assert.equal(e.message, '2 blocking checks failed: update.channel, update.support-period');
  assert.deepEqual(e.checks.map((c) => c.id), ['cra.applicability', 'manufacturer.identity', 'update.channel', 'update.support-period', 'disclosure.contact']);
  assert.deepEqual(
    e.checks.map((c) => c.reason),
    ['Compliant', 'Compliant', 'InsecureUpdateChannel', 'SupportPeriodTooShort', 'Compliant'],
  );
  assert.deepEqual(e.findings['update.channel'], [{ pointer: '/spec/updates/channel', message: 'channel uses http, not https', basis: { kind: 'cra', ref: 'Annex I Part I(2)(c)' } }]);
  assert.deepEqual(e.summary, { passed: 3, failed: 2, warned: 0, waived: 0, errored: 0, skipped: 0 });
});

void test('missing placedOnMarket: obligations are in force (strictest) and applicability fails', () => {
  const rel = goodRelease();
  delete rel.spec.placedOnMarket;
  const e = evaluate({ release: rel, policy: baseline, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Blocked');
  assert.equal(e.message, '2 blocking checks failed: cra.applicability, update.support-period');
  assert.ok(e.checks.every((c) => c.enforcement === 'Block'));
});

void test('released before the CRA applies: Block checks only warn ⇒ Approved with warnings', () => {
  const rel = goodRelease({ placedOnMarket: '2027-06-01', updates: { channel: 'https://u.example/x', automatic: false } });
  const e = evaluate({ release: rel, policy: baseline, policyName: 'cra-baseline', now });
  assert.equal(e.decision, 'Approved');
  assert.equal(e.message, '3 checks passed; 2 warned: update.channel, update.support-period');
  const ch = e.checks.find((c) => c.id === 'update.channel')!;
  assert.equal(ch.enforcement, 'Warn');
  assert.match(ch.message, /not blocking: placed on market 2027-06-01, before the CRA obligation applies \(2027-12-11\)/);
});

void test('Off entries are not listed; Warn failures never block', () => {
  const rel = goodRelease({ updates: { supportEnd: '2033-01' } });
  const e = evaluate({
    release: rel,
    policy: policy([{ id: 'update.channel', enforcement: 'Off' }, { id: 'update.support-period' }]),
    policyName: 'p',
    now,
  });
  assert.deepEqual(e.checks.map((c) => c.id), ['update.support-period']);
  assert.equal(e.decision, 'Approved');
  const w = evaluate({ release: rel, policy: policy([{ id: 'update.channel', enforcement: 'Warn' }]), policyName: 'p', now });
  assert.equal(w.decision, 'Approved');
  assert.equal(w.summary.warned, 1);
});

void test('unknown check id ⇒ Blocked with UnknownCheck', () => {
  const e = evaluate({ release: goodRelease(), policy: policy([{ id: 'update.channel' }, { id: 'sbom.not-a-check', enforcement: 'Warn' }]), policyName: 'p', now });
  assert.equal(e.decision, 'Blocked');
  assert.equal(e.reason, 'ChecksErrored');
  assert.equal(e.checks[1]!.reason, 'UnknownCheck');
  assert.equal(e.message, '1 blocking check errored: sbom.not-a-check');
});

void test('a crashing check ⇒ Blocked, CheckCrashed, message includes the error', () => {
  const crash: CheckDefinition = {
    id: 'x.crash',
    title: 'x',
    cra: ['Art. 13'],
    standards: [],
    reads: '',
    passRule: '',
    fix: '',
    inForceFrom: '2026-09-11',
    run: () => {
      throw new RangeError('index 7 out of range');
    },
  };
  const e = evaluate({ release: goodRelease(), policy: policy([{ id: 'x.crash' }]), policyName: 'p', now, registry: buildRegistry([crash]) });
  assert.equal(e.decision, 'Blocked');
  assert.equal(e.checks[0]!.reason, 'CheckCrashed');
  assert.match(e.checks[0]!.message, /index 7 out of range/);
});

void test('requeueAfterMs: next effectiveFrom, outcome change or reevaluateEvery, whichever is sooner', () => {
  const rel = goodRelease();
  const table: [string, ReleasePolicy, number | undefined][] = [
    ['none', policy([{ id: 'update.channel' }]), undefined],
    ['support ends (capped wait)', baseline, MAX_REQUEUE_MS],
    ['reevaluateEvery', policy([{ id: 'update.channel' }], { reevaluateEvery: '6h' }), 6 * 3_600_000],
    ['floor', policy([{ id: 'update.channel' }], { reevaluateEvery: '5s' }), MIN_REEVALUATE_MS],
    ['effectiveFrom', policy([{ id: 'update.channel', effectiveFrom: '2028-02-02' }]), 14 * 3_600_000],
    ['effectiveFrom sooner than every', policy([{ id: 'update.channel', effectiveFrom: '2028-02-02' }], { reevaluateEvery: '24h' }), 14 * 3_600_000],
    ['every sooner than effectiveFrom', policy([{ id: 'update.channel', effectiveFrom: '2028-02-02' }], { reevaluateEvery: '1h30m' }), 90 * 60_000],
    ['past effectiveFrom ignored', policy([{ id: 'update.channel', effectiveFrom: '2028-01-01' }]), undefined],
    ['Off effectiveFrom ignored', policy([{ id: 'update.channel' }, { id: 'disclosure.contact', enforcement: 'Off', effectiveFrom: '2028-02-02' }]), undefined],
    ['capped', policy([{ id: 'update.channel', effectiveFrom: '2030-01-01' }]), MAX_REQUEUE_MS],
  ];
  for (const [name, p, expected] of table) {
    assert.equal(evaluate({ release: rel, policy: p, policyName: 'p', now }).requeueAfterMs, expected, name);
  }
  const expiring: CheckDefinition = {
    id: 'x.expiring', title: 'x', cra: ['Art. 13'], standards: [], reads: '', passRule: '', fix: '', inForceFrom: '2026-09-11',
    run: (): CheckOutcome => ({ result: 'Pass', reason: 'Compliant', message: 'ok', changesAt: new Date('2028-02-01T11:00:00Z') }),
  };
  const e = evaluate({ release: rel, policy: policy([{ id: 'x.expiring' }]), policyName: 'p', now, registry: buildRegistry([expiring]) });
  assert.equal(e.requeueAfterMs, 3_600_000);
});

void test('retryable when a blocking check lacks evidence', () => {
  const ev: CheckDefinition = {
    id: 'x.ev', title: 'x', cra: ['Art. 13'], standards: [], reads: '', passRule: '', fix: '', inForceFrom: '2026-09-11',
    run: (): CheckOutcome => ({ result: 'Error', reason: 'EvidenceUnavailable', message: 'registry unreachable' }),
  };
  const e = evaluate({ release: goodRelease(), policy: policy([{ id: 'x.ev' }]), policyName: 'p', now, registry: buildRegistry([ev]) });
  assert.equal(e.decision, 'Blocked');
  assert.equal(e.retryable, true);
});

// ---- property: fail closed, checked against an independent oracle ------------------------------------------

type Behaviour = 'pass' | 'fail' | 'error' | 'skip' | 'throw' | 'garbage';
const behaviours: Behaviour[] = ['pass', 'fail', 'error', 'skip', 'throw', 'garbage'];

function behaving(id: string, b: Behaviour, inForceFrom: string, basis: 'placedOnMarket' | 'date'): CheckDefinition {
  return {
    id, title: id, cra: ['Art. 13'], standards: [], reads: '', passRule: '', fix: '', inForceFrom, inForceBasis: basis,
    run: (): CheckOutcome => {
      switch (b) {
        case 'pass': return { result: 'Pass', reason: 'Compliant', message: 'ok' };
        case 'fail': return { result: 'Fail', reason: 'NoUpdateChannel', message: 'no' };
        case 'error': return { result: 'Error', reason: 'EvidenceUnavailable', message: 'down' };
        case 'skip': return { result: 'Skipped', reason: 'NotApplicable', message: 'n/a' };
        case 'throw': throw new Error('bug');
        case 'garbage': return { result: 'Approved' } as unknown as CheckOutcome;
      }
    },
  };
}

const anyDay = fc.integer({ min: 0, max: 3000 }).map((n) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));
// Bias towards the boundaries that matter (CRA dates and their neighbours), so off-by-one bugs are found.
const day = fc.oneof(anyDay, fc.constantFrom('2026-09-10', '2026-09-11', '2026-09-12', '2027-12-10', '2027-12-11', '2027-12-12'));

void test('property: Block-effective Fail/Error/crash or unknown id ⇔ not Approved (independent oracle)', () => {
  const checkArb = fc.record({ b: fc.constantFrom(...behaviours), inForceFrom: day, basis: fc.constantFrom('placedOnMarket', 'date' as const) });
  const entryArb = fc.record({
    idx: fc.integer({ min: 0, max: 5 }), // 5 = an unknown id
    enforcement: fc.option(fc.constantFrom('Block', 'Warn', 'Off' as const), { nil: undefined }),
    effectiveFrom: fc.option(day, { nil: undefined }),
  });
  fc.assert(
    fc.property(
      fc.array(checkArb, { minLength: 5, maxLength: 5 }),
      fc.uniqueArray(entryArb, { minLength: 1, maxLength: 6, selector: (e) => e.idx }),
      fc.option(day, { nil: undefined }),
      day,
      fc.oneof(fc.constantFrom(0, 86_399_999), fc.integer({ min: 0, max: 86_399_999 })),
      (defs, entries, placed, nowDay, msOfDay) => {
        const registry = buildRegistry(defs.map((d, i) => behaving(`c.c${i}`, d.b, d.inForceFrom, d.basis)));
        const p = policy(
          entries.map((e) => ({
            id: `c.c${e.idx}`,
            ...(e.enforcement ? { enforcement: e.enforcement } : {}),
            ...(e.effectiveFrom ? { effectiveFrom: e.effectiveFrom } : {}),
          })),
        );
        const rel = release(placed ? { placedOnMarket: placed } : {});
        const nowDate = new Date(Date.parse(`${nowDay}T00:00:00Z`) + msOfDay);
        const e = evaluate({ release: rel, policy: p, policyName: 'p', now: nowDate, registry });

        // oracle, written independently of the implementation (string date comparison)
        const enabled = entries.filter((x) => x.enforcement !== 'Off');
        if (enabled.length === 0) {
          assert.equal(e.decision, 'Pending');
          assert.equal(e.reason, 'PolicyInvalid');
          return;
        }
        const expectBlocked = enabled.some((x) => {
          const d = defs[x.idx];
          if (!d) return true; // unknown id
          if (!['fail', 'error', 'throw', 'garbage'].includes(d.b)) return false;
          if (x.enforcement === 'Warn') return false;
          const inForce = d.basis === 'date' ? nowDay >= d.inForceFrom : placed === undefined || placed >= d.inForceFrom;
          const effective = x.effectiveFrom === undefined || nowDay >= x.effectiveFrom;
          return inForce && effective;
        });
        assert.equal(e.decision, expectBlocked ? 'Blocked' : 'Approved');
        // the stated property, on the output itself
        if (e.checks.some((c) => c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error'))) {
          assert.notEqual(e.decision, 'Approved');
        }
        assert.equal(e.checks.length, enabled.length);
        if (e.requeueAfterMs !== undefined) assert.ok(e.requeueAfterMs > 0 && e.requeueAfterMs <= MAX_REQUEUE_MS);
      },
    ),
    { numRuns: 1000 },
  );
});
