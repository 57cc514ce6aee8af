import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declaredEnforcement, effectiveEnforcement } from './enforcement.ts';
import { release } from '../checks/testkit.ts';
import type { PolicyCheckEntry } from '../checks/api.ts';

const full = { inForceFrom: '2027-12-11' };
const reporting = { inForceFrom: '2026-09-11', inForceBasis: 'date' as const };
const now = new Date('2027-06-01T12:00:00Z');

void test('declared enforcement defaults to Block', () => {
  assert.equal(declaredEnforcement({}), 'Block');
  assert.equal(declaredEnforcement({ enforcement: 'Warn' }), 'Warn');
  assert.equal(declaredEnforcement({ enforcement: 'Off' }), 'Off');
});

void test('effectiveEnforcement table', () => {
  type Row = [string, PolicyCheckEntry, string | undefined, typeof full | typeof reporting | undefined, string, RegExp | undefined, string | undefined];
  const table: Row[] = [
    ['Off stays Off', { id: 'a.b', enforcement: 'Off' }, '2028-01-15', full, 'Off', undefined, undefined],
    ['Warn stays Warn', { id: 'a.b', enforcement: 'Warn' }, '2020-01-01', full, 'Warn', undefined, undefined],
    ['Block in force', { id: 'a.b' }, '2028-01-15', full, 'Block', undefined, undefined],
    ['Block on the in-force day', { id: 'a.b' }, '2027-12-11', full, 'Block', undefined, undefined],
    ['placed the day before in-force', { id: 'a.b' }, '2027-12-10', full, 'Warn', /placed on market 2027-12-10, before the CRA obligation applies \(2027-12-11\)/, undefined],
    ['missing placedOnMarket is strictest', { id: 'a.b' }, undefined, full, 'Block', undefined, undefined],
    ['invalid placedOnMarket is strictest', { id: 'a.b' }, '2027-02-30', full, 'Block', undefined, undefined],
    ['unknown check: no CRA softening', { id: 'a.b' }, '2020-01-01', undefined, 'Block', undefined, undefined],
    ['effectiveFrom in the future', { id: 'a.b', effectiveFrom: '2027-07-01' }, '2028-01-15', full, 'Warn', /blocks from 2027-07-01/, '2027-07-01'],
    ['effectiveFrom today', { id: 'a.b', effectiveFrom: '2027-06-01' }, '2028-01-15', full, 'Block', undefined, undefined],
    ['effectiveFrom in the past', { id: 'a.b', effectiveFrom: '2026-09-11' }, '2028-01-15', full, 'Block', undefined, undefined],
    ['not in force wins over effectiveFrom', { id: 'a.b', effectiveFrom: '2027-07-01' }, '2026-01-01', full, 'Warn', /placed on market/, undefined],
    ['date basis, before the date', { id: 'a.b' }, '2020-01-01', { inForceFrom: '2027-09-01', inForceBasis: 'date' }, 'Warn', /until the CRA obligation applies on 2027-09-01/, '2027-09-01'],
    ['date basis, after the date, old product', { id: 'a.b' }, '2020-01-01', reporting, 'Block', undefined, undefined],
    ['date basis + later effectiveFrom', { id: 'a.b', effectiveFrom: '2027-10-01' }, undefined, { inForceFrom: '2027-09-01', inForceBasis: 'date' }, 'Warn', /blocks from 2027-10-01/, '2027-10-01'],
    ['date basis + earlier effectiveFrom', { id: 'a.b', effectiveFrom: '2027-08-01' }, undefined, { inForceFrom: '2027-09-01', inForceBasis: 'date' }, 'Warn', /2027-09-01/, '2027-09-01'],
    ['invalid effectiveFrom ignored (fail closed)', { id: 'a.b', effectiveFrom: 'soon' }, '2028-01-15', full, 'Block', undefined, undefined],
  ];
  for (const [name, entry, placed, check, expected, note, next] of table) {
    const rel = release(placed === undefined ? {} : { placedOnMarket: placed });
    const got = effectiveEnforcement(entry, rel, check, now);
    assert.equal(got.enforcement, expected, name);
    if (note) assert.match(got.note ?? '', note, name);
    else assert.equal(got.note, undefined, name);
    assert.equal(got.nextChangeAt?.toISOString().slice(0, 10), next, name);
  }
});

void test('a placedOnMarket the evidence contradicts softens nothing (issue 13 item 5)', () => {
  const rel = release({ placedOnMarket: '2025-01-01' });
  assert.equal(effectiveEnforcement({ id: 'a.b' }, rel, full, now).enforcement, 'Warn');
  const doubted = effectiveEnforcement({ id: 'a.b' }, rel, full, now, 'placedOnMarket 2025-01-01 is before the SBOM timestamp');
  assert.equal(doubted.enforcement, 'Block');
  assert.equal(doubted.note, undefined);
  // the date basis and effectiveFrom are not about placedOnMarket: unchanged
  assert.equal(effectiveEnforcement({ id: 'a.b' }, rel, { inForceFrom: '2027-09-01', inForceBasis: 'date' }, now, 'doubt').enforcement, 'Warn');
  assert.equal(effectiveEnforcement({ id: 'a.b', effectiveFrom: '2027-07-01' }, release({ placedOnMarket: '2028-01-15' }), full, now, 'doubt').enforcement, 'Warn');
});
