import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRegistry, checkRegistry, listChecks } from './index.ts';
import { CHECK_ID_PATTERN } from '../api/types.ts';
import { parseDay } from '../util/dates.ts';
import { isReason } from '../errors.ts';
import { ctx, goodRelease } from './testkit.ts';
import type { ProductRelease } from './api.ts';

/** The checks that read only the release spec: the reference release must pass each of them. */
const SPEC_ONLY = ['cra.applicability', 'disclosure.contact', 'manufacturer.identity', 'update.channel', 'update.support-period'];

void test('registry holds the first-wave checks with complete metadata', () => {
  const ids = listChecks().map((c) => c.id);
  for (const id of SPEC_ONLY) assert.ok(ids.includes(id), `${id} is registered`);
  assert.deepEqual(ids, [...ids].sort(), 'listChecks() is sorted by id');
  for (const c of listChecks()) {
    assert.match(c.id, CHECK_ID_PATTERN);
    assert.equal(checkRegistry.get(c.id), c);
    assert.ok(c.title && c.reads && c.passRule && c.fix, c.id);
    // Rests on the CRA text, or on guidance that names the CRA provision it makes concrete (basis.test.ts).
    assert.ok(c.cra.length > 0 || (c.standards.length > 0 && (c.concretises ?? []).length > 0), c.id);
    assert.ok(parseDay(c.inForceFrom), c.id);
  }
});

void test('buildRegistry rejects duplicate ids', () => {
  const c = checkRegistry.get('update.channel')!;
  assert.throws(() => buildRegistry([c, c]), /duplicate check id update.channel/);
});

void test('every spec-only check passes the reference release', () => {
  for (const c of listChecks().filter((x) => SPEC_ONLY.includes(x.id))) {
    const out = c.run(ctx(goodRelease()));
    assert.equal(out.result, 'Pass', `${c.id}: ${out.message}`);
    assert.equal(out.reason, 'Compliant');
  }
});

void test('property: checks never throw and always return a catalogue reason, whatever the spec holds', () => {
  const garbage = fc.oneof(fc.anything(), fc.string(), fc.constant(undefined));
  const specArb = fc.record(
    {
      product: fc.oneof(garbage, fc.record({ name: garbage, category: fc.oneof(garbage, fc.constantFrom('default', 'browser', 'firewall-ids-ips', 'smart-meter-gateway')), manufacturer: fc.oneof(garbage, fc.dictionary(fc.constantFrom('name', 'email', 'url', 'address'), garbage)) })),
      placedOnMarket: garbage,
      updates: fc.oneof(
        garbage,
        fc.record({ channel: garbage, automatic: garbage, manualJustification: garbage, supportEnd: garbage, expectedUsePeriod: fc.oneof(garbage, fc.record({ months: garbage, rationale: garbage })) }, { requiredKeys: [] }),
      ),
      vulnerabilityHandling: fc.oneof(garbage, fc.record({ contact: garbage }, { requiredKeys: [] })),
      conformity: fc.oneof(
        garbage,
        fc.record(
          {
            module: fc.oneof(garbage, fc.constantFrom('A', 'B+C', 'H', 'EUCC')),
            standards: fc.oneof(garbage, fc.array(fc.oneof(garbage, fc.record({ kind: garbage, reference: garbage, application: garbage }, { requiredKeys: [] })))),
            notifiedBody: fc.oneof(garbage, fc.record({ number: garbage }, { requiredKeys: [] })),
            certificate: fc.oneof(garbage, fc.record({ id: garbage, url: garbage }, { requiredKeys: [] })),
            freeAndOpenSource: garbage,
          },
          { requiredKeys: [] },
        ),
      ),
      userInformation: fc.oneof(garbage, fc.dictionary(fc.constantFrom('productIdentification', 'supportPeriod', 'sbomLocation', 'sbomAvailableToUsers', 'intendedPurpose'), fc.oneof(garbage, fc.record({ url: garbage, text: garbage }, { requiredKeys: [] })))),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(specArb, (spec) => {
      const rel = { ...goodRelease(), spec } as unknown as ProductRelease;
      for (const c of listChecks()) {
        const out = c.run(ctx(rel));
        assert.ok(['Pass', 'Fail', 'Error', 'Skipped'].includes(out.result));
        assert.ok(isReason(out.reason));
        assert.equal(typeof out.message, 'string');
      }
    }),
    { numRuns: 300 },
  );
});
