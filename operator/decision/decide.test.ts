import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_MESSAGE_CHARS, assessEntry, decide, isBlocking, runCheckSafely, summarize } from './decide.ts';
import { buildRegistry } from '../checks/index.ts';
import { ctx, goodRelease, release } from '../checks/testkit.ts';
import type { CheckDefinition, CheckOutcome } from '../checks/types.ts';
import type { PolicyCheckEntry, StatusCheck } from '../checks/api.ts';

function fake(id: string, run: CheckDefinition['run'], extra: Partial<CheckDefinition> = {}): CheckDefinition {
  return {
    id,
    title: id,
    cra: ['Annex I Part I(2)(a)'],
    standards: [],
    reads: 'nothing',
    passRule: 'n/a',
    fix: 'n/a',
    inForceFrom: '2027-12-11',
    run,
    ...extra,
  };
}

const passing = fake('t.pass', () => ({ result: 'Pass', reason: 'Compliant', message: 'ok', evidence: 'sha256:abc' }));
const failing = fake('t.fail', () => ({
  result: 'Fail',
  reason: 'NoUpdateChannel',
  message: 'no channel',
  findings: [{ pointer: '/spec/updates/channel', message: 'missing' }],
}));
const throwing = fake('t.throw', () => {
  throw new TypeError("Cannot read properties of undefined (reading 'x')");
});
const evidenceDown = fake('t.evidence', () => ({ result: 'Error', reason: 'EvidenceUnavailable', message: 'registry timeout' }));
const withParams = fake('t.params', (c) => ({ result: 'Pass', reason: 'Compliant', message: `n=${String(c.params.n)}` }), { params: ['n'] });
const expiring = fake('t.expiring', () => ({ result: 'Pass', reason: 'Compliant', message: 'ok', changesAt: new Date('2028-03-01T00:00:00Z') }));
const registry = buildRegistry([passing, failing, throwing, evidenceDown, withParams, expiring]);
const now = new Date('2028-02-01T10:00:00Z');

function assess(entry: PolicyCheckEntry, rel = goodRelease()) {
  return assessEntry({ entry, registry, release: rel, now, evidence: {} });
}

void test('runCheckSafely turns throws and garbage into CheckCrashed', () => {
  const table: [CheckDefinition['run'], RegExp][] = [
    [() => { throw new Error('boom\nstack'); }, /check t\.x crashed: boom stack/],
    [
      () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a check may throw anything
        throw 'a string';
      },
      /crashed: a string/,
    ],
    [() => null as unknown as CheckOutcome, /returned no outcome/],
    [() => ({ result: 'Maybe', reason: 'Compliant', message: '' }) as unknown as CheckOutcome, /malformed outcome/],
    [() => ({ result: 'Pass', reason: 'NotAReason', message: '' }) as unknown as CheckOutcome, /malformed outcome/],
    [() => ({ result: 'Pass', reason: 'Compliant' }) as unknown as CheckOutcome, /malformed outcome/],
  ];
  for (const [run, message] of table) {
    const out = runCheckSafely(fake('t.x', run), ctx(goodRelease()));
    assert.equal(out.result, 'Error');
    assert.equal(out.reason, 'CheckCrashed');
    assert.match(out.message, message);
  }
});

void test('assessEntry: Off is not run and not listed', () => {
  let ran = false;
  const spy = fake('t.spy', () => {
    ran = true;
    return { result: 'Fail', reason: 'NoUpdateChannel', message: 'x' };
  });
  const out = assessEntry({ entry: { id: 't.spy', enforcement: 'Off' }, registry: buildRegistry([spy]), release: goodRelease(), now, evidence: {} });
  assert.equal(out, undefined);
  assert.equal(ran, false);
  assert.equal(assess({ id: 'no.such', enforcement: 'Off' }), undefined);
});

void test('assessEntry: unknown check is an Error that blocks, whatever the entry enforcement', () => {
  for (const enforcement of [undefined, 'Block', 'Warn'] as const) {
    const a = assess({ id: 'no.such-check', ...(enforcement ? { enforcement } : {}) })!;
    assert.deepEqual(a.status, {
      id: 'no.such-check',
      result: 'Error',
      enforcement: 'Block',
      reason: 'UnknownCheck',
      message: 'unknown check id "no.such-check"; known ids: see `cra-gate checks`',
      cra: [],
    });
  }
});

void test('assessEntry: status fields, findings, evidence, crash message', () => {
  assert.deepEqual(assess({ id: 't.pass' })!.status, {
    id: 't.pass',
    result: 'Pass',
    enforcement: 'Block',
    reason: 'Compliant',
    message: 'ok',
    cra: ['Annex I Part I(2)(a)'],
    basis: 'CRA',
    evidence: 'sha256:abc',
  });
  const f = assess({ id: 't.fail', enforcement: 'Warn' })!;
  assert.equal(f.status.result, 'Fail');
  assert.equal(f.status.enforcement, 'Warn');
  assert.deepEqual(f.findings, [{ pointer: '/spec/updates/channel', message: 'missing', basis: { kind: 'cra', ref: 'Annex I Part I(2)(a)' } }]);
  const t = assess({ id: 't.throw' })!;
  assert.equal(t.status.result, 'Error');
  assert.equal(t.status.reason, 'CheckCrashed');
  assert.match(t.status.message, /Cannot read properties of undefined/);
});

void test('assessEntry: params are checked against the declared list', () => {
  assert.equal(assess({ id: 't.params', params: { n: 3 } })!.status.message, 'n=3');
  const bad = assess({ id: 't.params', params: { m: 3 } })!.status;
  assert.equal(bad.result, 'Error');
  assert.equal(bad.reason, 'InvalidCheckParams');
  assert.match(bad.message, /unknown params for t\.params: m \(accepted: n\)/);
  const none = assess({ id: 't.pass', params: { x: 1 } })!.status;
  assert.match(none.message, /it takes no params/);
  assert.equal(assess({ id: 't.pass', params: {} })!.status.result, 'Pass');
});

void test('assessEntry: effectiveFrom in the future only warns and says from when it blocks', () => {
  const a = assess({ id: 't.fail', effectiveFrom: '2028-06-01' })!;
  assert.equal(a.status.enforcement, 'Warn');
  assert.equal(a.status.message, 'no channel (warn only: blocks from 2028-06-01)');
  assert.equal(a.changesAt?.toISOString(), '2028-06-01T00:00:00.000Z');
  // a passing check carries no note
  assert.equal(assess({ id: 't.pass', effectiveFrom: '2028-06-01' })!.status.message, 'ok');
  // errors are softened the same way
  const e = assess({ id: 't.throw', effectiveFrom: '2028-06-01' })!;
  assert.equal(e.status.enforcement, 'Warn');
  assert.match(e.status.message, /blocks from 2028-06-01/);
});

void test('assessEntry: CRA not in force for the release only warns', () => {
  const a = assess({ id: 't.fail' }, goodRelease({ placedOnMarket: '2027-01-10' }))!;
  assert.equal(a.status.enforcement, 'Warn');
  assert.match(a.status.message, /not blocking: placed on market 2027-01-10, before the CRA obligation applies \(2027-12-11\)/);
  assert.equal(a.changesAt, undefined);
  const strict = assess({ id: 't.fail' }, release({}))!;
  assert.equal(strict.status.enforcement, 'Block');
});

void test('assessEntry: changesAt from the outcome', () => {
  assert.equal(assess({ id: 't.expiring' })!.changesAt?.toISOString(), '2028-03-01T00:00:00.000Z');
});

void test('assessEntry: long messages are bounded', () => {
  const long = fake('t.long', () => ({ result: 'Fail', reason: 'NoUpdateChannel', message: 'x'.repeat(5000) }));
  const a = assessEntry({ entry: { id: 't.long' }, registry: buildRegistry([long]), release: goodRelease(), now, evidence: {} })!;
  assert.equal(a.status.message.length, MAX_MESSAGE_CHARS);
});

function sc(id: string, result: StatusCheck['result'], enforcement: StatusCheck['enforcement'], reason = 'Compliant'): StatusCheck {
  return { id, result, enforcement, reason, message: '', cra: [] };
}

void test('decide: table', () => {
  const table: [string, StatusCheck[], string, string, RegExp, boolean][] = [
    ['all pass', [sc('a.a', 'Pass', 'Block'), sc('a.b', 'Pass', 'Warn')], 'Approved', 'AllChecksPassed', /^2 checks passed$/, false],
    ['one pass', [sc('a.a', 'Pass', 'Block')], 'Approved', 'AllChecksPassed', /^1 check passed$/, false],
    ['warn failure never blocks', [sc('a.a', 'Pass', 'Block'), sc('a.b', 'Fail', 'Warn')], 'Approved', 'AllChecksPassed', /1 check passed; 1 warned: a\.b/, false],
    ['warn error never blocks', [sc('a.b', 'Error', 'Warn', 'CheckCrashed')], 'Approved', 'AllChecksPassed', /1 warned: a\.b/, false],
    ['waived and skipped', [sc('a.a', 'Waived', 'Block'), sc('a.b', 'Skipped', 'Block')], 'Approved', 'AllChecksPassed', /1 waived; 1 skipped/, false],
    ['block failure', [sc('sbom.present', 'Fail', 'Block'), sc('update.channel', 'Fail', 'Block'), sc('a.c', 'Pass', 'Block')], 'Blocked', 'PolicyViolation', /^2 blocking checks failed: sbom\.present, update\.channel$/, false],
    ['block error only', [sc('a.a', 'Error', 'Block', 'UnknownCheck')], 'Blocked', 'ChecksErrored', /^1 blocking check errored: a\.a$/, false],
    ['transient error is retryable', [sc('a.a', 'Error', 'Block', 'EvidenceUnavailable')], 'Blocked', 'ChecksErrored', /errored/, true],
    ['fail and error', [sc('a.a', 'Fail', 'Block'), sc('a.b', 'Error', 'Block', 'CheckCrashed')], 'Blocked', 'PolicyViolation', /1 blocking check failed: a\.a; 1 blocking check errored: a\.b/, false],
    ['many ids', Array.from({ length: 8 }, (_, i) => sc(`c.c${i}`, 'Fail', 'Block')), 'Blocked', 'PolicyViolation', /8 blocking checks failed: c\.c0, c\.c1, c\.c2, c\.c3, c\.c4 \+3 more/, false],
  ];
  for (const [name, checks, decision, reason, message, retryable] of table) {
    const d = decide(checks);
    assert.equal(d.decision, decision, name);
    assert.equal(d.reason, reason, name);
    assert.match(d.message, message, name);
    assert.equal(d.retryable, retryable, name);
  }
});

void test('summarize counts', () => {
  assert.deepEqual(
    summarize([
      sc('a', 'Pass', 'Block'),
      sc('b', 'Fail', 'Block'),
      sc('c', 'Error', 'Block'),
      sc('d', 'Fail', 'Warn'),
      sc('e', 'Error', 'Warn'),
      sc('f', 'Waived', 'Block'),
      sc('g', 'Skipped', 'Warn'),
    ]),
    { passed: 1, failed: 2, warned: 2, waived: 1, errored: 2, skipped: 1 },
  );
});

const statusArb = fc.record({
  id: fc.stringMatching(/^[a-z]{1,4}\.[a-z]{1,4}$/),
  result: fc.constantFrom('Pass', 'Fail', 'Error', 'Waived', 'Skipped' as const),
  enforcement: fc.constantFrom('Block', 'Warn' as const),
  reason: fc.constantFrom('Compliant', 'CheckCrashed', 'EvidenceUnavailable', 'NoUpdateChannel'),
  message: fc.string({ maxLength: 20 }),
  cra: fc.constant([] as string[]),
});

void test('property: any Block-enforced Fail/Error ⇒ not Approved; none ⇒ Approved; counts add up', () => {
  fc.assert(
    fc.property(fc.array(statusArb, { maxLength: 30 }), (checks) => {
      const d = decide(checks);
      const anyBlocking = checks.some((c) => c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error'));
      assert.equal(d.decision === 'Approved', !anyBlocking);
      assert.equal(checks.some(isBlocking), anyBlocking);
      const s = d.summary;
      assert.equal(s.passed + s.failed + s.warned + s.waived + s.skipped, checks.length);
      assert.equal(s.errored, checks.filter((c) => c.result === 'Error').length);
      assert.ok(d.message.length <= MAX_MESSAGE_CHARS);
    }),
    { numRuns: 500 },
  );
});

void test('assessEntry: the status says what a result rests on; every finding carries its basis', () => {
  const tr = { kind: 'guidance', ref: 'BSI TR-03183-2 v2.1.0 §5.2.2' } as const;
  const guidanceOnly = fake('t.tr', () => ({ result: 'Fail', reason: 'MissingDeployableHash', message: 'no hash', findings: [{ pointer: '/components/0', message: 'no hash', basis: tr }] }), {
    cra: [],
    standards: ['BSI TR-03183-2 v2.1.0 §5.2.2'],
    concretises: ['Annex I Part II(1)'],
  });
  const mixed = fake('t.mixed', () => ({
    result: 'Fail',
    reason: 'MissingTopLevelDependencies',
    message: 'x',
    findings: [{ pointer: '/a', message: 'guidance', basis: tr }, { pointer: '/b', message: 'default basis' }],
  }), { standards: ['BSI TR-03183-2 v2.1.0 §5.1'] });
  const reg = buildRegistry([guidanceOnly, mixed]);
  const g = assessEntry({ entry: { id: 't.tr', enforcement: 'Block' }, registry: reg, release: goodRelease(), now, evidence: {} })!;
  assert.equal(g.status.basis, 'Guidance');
  assert.deepEqual(g.status.cra, []);
  assert.deepEqual(g.status.guidance, ['BSI TR-03183-2 v2.1.0 §5.2.2']);
  assert.deepEqual(g.findings?.[0]?.basis, tr);
  const m = assessEntry({ entry: { id: 't.mixed', enforcement: 'Block' }, registry: reg, release: goodRelease(), now, evidence: {} })!;
  assert.equal(m.status.basis, 'CRA');
  assert.deepEqual(m.findings?.[0]?.basis, tr);
  // A finding without its own basis gets the check's first CRA-text reference.
  assert.deepEqual(m.findings?.[1]?.basis, { kind: 'cra', ref: 'Annex I Part I(2)(a)' });
});
