/**
 * Property: "any failing Block check of an effective policy ⇒ not Approved", end to end through evaluate()
 * (policy validation, effective enforcement with effectiveFrom and CRA in-force dates, crashing and
 * garbage-returning checks, unknown ids, params), against an independent oracle written from the rules in
 * README/docs rather than from the implementation. Also: evaluate() never throws, and an Approved
 * evaluation never lists a blocking check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate } from '../engine/evaluate.ts';
import { buildRegistry, checkRegistry } from '../checks/index.ts';
import { goodRelease } from '../checks/testkit.ts';
import type { CheckDefinition, CheckOutcome } from '../checks/types.ts';
import type { PolicyCheckEntry, ReleasePolicy } from '../checks/api.ts';

type Behaviour = 'pass' | 'fail' | 'error' | 'skipped' | 'throw' | 'garbage' | 'null';

interface FakeSpec {
  id: string;
  behaviour: Behaviour;
  inForceFrom: string;
  basis: 'placedOnMarket' | 'date';
}

function fakeCheck(s: FakeSpec): CheckDefinition {
  return {
    id: s.id,
    title: s.id,
    cra: ['Annex I Part I(2)(a)'],
    standards: [],
    reads: 'nothing',
    passRule: 'n/a',
    fix: 'n/a',
    inForceFrom: s.inForceFrom,
    inForceBasis: s.basis,
    params: ['n'],
    run: (): CheckOutcome => {
      switch (s.behaviour) {
        case 'pass':
          return { result: 'Pass', reason: 'Compliant', message: 'ok' };
        case 'fail':
          return { result: 'Fail', reason: 'NoUpdateChannel', message: 'bad' };
        case 'error':
          return { result: 'Error', reason: 'EvidenceUnavailable', message: 'down' };
        case 'skipped':
          return { result: 'Skipped', reason: 'Compliant', message: 'n/a' };
        case 'throw':
          throw new Error('boom');
        case 'garbage':
          return { result: 'Maybe', reason: 'Nope', message: 3 } as unknown as CheckOutcome;
        case 'null':
          return null as unknown as CheckOutcome;
      }
    },
  };
}

const day = fc
  .record({ y: fc.integer({ min: 2025, max: 2030 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) })
  .map(({ y, m, d }) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`); // may be invalid (2027-02-30)

const validDay = (s: string): Date | undefined => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d : undefined;
};

const scenario = fc.record({
  fakes: fc.uniqueArray(
    fc.record({
      id: fc.constantFrom('t.a', 't.b', 't.c', 't.d', 't.e', 't.f'),
      behaviour: fc.constantFrom<Behaviour>('pass', 'pass', 'pass', 'fail', 'error', 'skipped', 'throw', 'garbage', 'null'),
      inForceFrom: fc.constantFrom('2026-09-11', '2027-12-11', '2029-01-01'),
      basis: fc.constantFrom<'placedOnMarket' | 'date'>('placedOnMarket', 'date'),
    }),
    { selector: (f) => f.id, maxLength: 6 },
  ),
  entries: fc.uniqueArray(
    fc.record({
      id: fc.constantFrom('t.a', 't.b', 't.c', 't.d', 't.e', 't.f', 't.unknown', 'also.unknown'),
      enforcement: fc.constantFrom<PolicyCheckEntry['enforcement'] | undefined>('Block', 'Warn', 'Off', undefined),
      effectiveFrom: fc.option(day, { nil: undefined }),
      badParams: fc.boolean(),
    }),
    { selector: (e) => e.id, minLength: 0, maxLength: 8 },
  ),
  placedOnMarket: fc.option(day, { nil: undefined }),
  now: fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2031-01-01T00:00:00Z'), noInvalidDate: true }),
});

void test('property: any failing Block check of an effective policy ⇒ not Approved (and the converse)', () => {
  const seen = { Pending: 0, Approved: 0, Blocked: 0 };
  fc.assert(
    fc.property(scenario, (sc) => {
      const registry = buildRegistry(sc.fakes.map(fakeCheck));
      const entries: PolicyCheckEntry[] = sc.entries.map((e) => ({
        id: e.id,
        ...(e.enforcement ? { enforcement: e.enforcement } : {}),
        ...(e.effectiveFrom ? { effectiveFrom: e.effectiveFrom } : {}),
        ...(e.badParams ? { params: { bogus: 1 } } : { params: { n: 1 } }),
      }));
      const policy: ReleasePolicy = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', metadata: { name: 'p', generation: 1 }, spec: { checks: entries } };
      const release = goodRelease(sc.placedOnMarket ? { placedOnMarket: sc.placedOnMarket } : {});
      const ev = evaluate({ release, policy, policyName: 'p', now: sc.now, registry });
      seen[ev.decision]++;

      // Oracle, from the documented rules.
      const policyValid =
        entries.length > 0 && entries.some((e) => e.enforcement !== 'Off') && entries.every((e) => !e.effectiveFrom || validDay(e.effectiveFrom));
      if (!policyValid) {
        assert.equal(ev.decision, 'Pending', 'an invalid or empty policy never decides');
        return;
      }
      const placed = validDay(release.spec.placedOnMarket ?? '');
      let mustBlock = false;
      for (const e of sc.entries) {
        if (e.enforcement === 'Off') continue;
        const f = sc.fakes.find((x) => x.id === e.id);
        if (!f) {
          mustBlock = true; // unknown check id: fail closed whatever the enforcement
          continue;
        }
        if (e.enforcement === 'Warn') continue;
        const failing = e.badParams || !['pass', 'skipped'].includes(f.behaviour);
        if (!failing) continue;
        const inForce = validDay(f.inForceFrom)!;
        const notInForce = f.basis === 'placedOnMarket' ? placed !== undefined && placed < inForce : sc.now < inForce;
        const from = e.effectiveFrom ? validDay(e.effectiveFrom) : undefined;
        const notYet = from !== undefined && sc.now < from;
        if (!notInForce && !notYet) mustBlock = true;
      }
      assert.equal(ev.decision, mustBlock ? 'Blocked' : 'Approved', JSON.stringify({ checks: ev.checks }));
      const blocking = ev.checks.filter((c) => c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error'));
      assert.equal(blocking.length > 0, ev.decision === 'Blocked', 'the status checks justify the decision');
      assert.equal(ev.checks.length, entries.filter((e) => e.enforcement !== 'Off').length, 'Off entries are not listed, others are');
    }),
    { numRuns: 1500 },
  );
  // Not vacuous: the generator reaches every outcome often.
  assert.ok(seen.Approved > 40 && seen.Blocked > 100 && seen.Pending > 20, JSON.stringify(seen));
});

void test('property: evaluate() never throws and never approves on arbitrary (even garbage) release specs', () => {
  const policy: ReleasePolicy = {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'cra-baseline', generation: 1 },
    spec: { checks: [...checkRegistry.keys()].filter((id) => !id.startsWith('sbom.') && !id.startsWith('config.')).map((id) => ({ id })) },
  };
  const junk = fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true });
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('product', 'version', 'placedOnMarket', 'updates', 'vulnerabilityHandling', 'artifacts', 'policyRef'), junk), (spec) => {
      const release = { ...goodRelease(), spec } as unknown as ReturnType<typeof goodRelease>;
      const ev = evaluate({ release, policy, policyName: 'cra-baseline', now: new Date('2028-06-01T00:00:00Z') });
      assert.ok(['Pending', 'Approved', 'Blocked'].includes(ev.decision));
      // Garbage in every field the checks read: the manufacturer/update/contact checks cannot all pass.
      if (ev.decision === 'Approved') {
        assert.ok(ev.checks.every((c) => !(c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error'))));
      }
      for (const c of ev.checks) assert.ok(c.message.length <= 300, 'messages stay bounded');
    }),
    { numRuns: 500 },
  );
});
