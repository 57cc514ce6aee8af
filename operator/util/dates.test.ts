import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMonths, daysInMonth, formatDay, parseDay, parseEndExclusive, wholeMonthsBetween } from './dates.ts';

void test('parseDay accepts real calendar dates only', () => {
  const table: [unknown, string | undefined][] = [
    ['2028-01-15', '2028-01-15'],
    ['2028-02-29', '2028-02-29'], // leap year
    ['2000-02-29', '2000-02-29'], // divisible by 400
    ['2027-02-29', undefined],
    ['1900-02-29', undefined], // divisible by 100, not 400
    ['2026-04-31', undefined],
    ['2026-13-01', undefined],
    ['2026-00-10', undefined],
    ['2026-01-00', undefined],
    ['2026-1-5', undefined],
    ['2026-01-05T00:00:00Z', undefined],
    [' 2026-01-05', undefined],
    ['2026-01', undefined],
    ['', undefined],
    [undefined, undefined],
    [20260105, undefined],
  ];
  for (const [input, expected] of table) {
    const got = parseDay(input);
    assert.equal(got === undefined ? undefined : formatDay(got), expected, String(input));
  }
});

void test('parseEndExclusive: YYYY-MM is the end of that month, YYYY-MM-DD the end of that day', () => {
  const table: [string, string | undefined][] = [
    ['2033-01', '2033-02-01'],
    ['2033-12', '2034-01-01'],
    ['2032-02', '2032-03-01'],
    ['2033-01-14', '2033-01-15'],
    ['2032-02-29', '2032-03-01'],
    ['2033-12-31', '2034-01-01'],
    ['2033-13', undefined],
    ['2033-00', undefined],
    ['2033-02-29', undefined],
    ['2033', undefined],
    ['33-01', undefined],
  ];
  for (const [input, expected] of table) {
    const got = parseEndExclusive(input);
    assert.equal(got === undefined ? undefined : formatDay(got), expected, input);
  }
});

void test('addMonths clamps to month end', () => {
  const table: [string, number, string][] = [
    ['2028-01-31', 1, '2028-02-29'],
    ['2027-01-31', 1, '2027-02-28'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2028-01-15', 60, '2033-01-15'],
    ['2028-12-31', -1, '2028-11-30'],
    ['2028-03-31', -13, '2027-02-28'],
  ];
  for (const [start, n, expected] of table) assert.equal(formatDay(addMonths(parseDay(start)!, n)), expected);
});

void test('wholeMonthsBetween counts complete calendar months', () => {
  const table: [string, string, number][] = [
    ['2028-01-15', '2033-01-15', 60],
    ['2028-01-15', '2033-01-14', 59],
    ['2028-01-01', '2033-01-01', 60],
    ['2028-01-31', '2028-02-29', 1],
    ['2028-01-31', '2028-02-28', 0],
    ['2028-02-29', '2033-02-28', 60],
    ['2028-01-15', '2028-01-15', 0],
    ['2028-01-15', '2027-12-15', -1],
    ['2028-01-15', '2027-12-16', -1],
  ];
  for (const [a, b, expected] of table) assert.equal(wholeMonthsBetween(parseDay(a)!, parseDay(b)!), expected, `${a}..${b}`);
});

void test('daysInMonth', () => {
  assert.equal(daysInMonth(2028, 2), 29);
  assert.equal(daysInMonth(2027, 2), 28);
  assert.equal(daysInMonth(2027, 12), 31);
  assert.equal(daysInMonth(2027, 4), 30);
});

void test('years 0000–0099 are not shifted into the 1900s', () => {
  assert.equal(parseDay('0050-06-01')?.getUTCFullYear(), 50);
  assert.equal(parseDay('0050-06-01')?.toISOString().slice(0, 10), '0050-06-01');
});
