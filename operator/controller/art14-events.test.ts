import { test } from 'node:test';
import assert from 'node:assert/strict';
import { art14Events } from './art14-events.ts';
import type { ExploitedVulnerability } from '../api/types.ts';

const x = (cve: string): ExploitedVulnerability => ({ vulnerability: cve, knownSince: '2028-02-01T09:00:00Z', earlyWarningDue: '2028-02-02T09:00:00Z', notificationDue: '2028-02-04T09:00:00Z' });

void test('one Warning Event per newly exploited vulnerability, with the three Art. 14(2) deadlines', () => {
  const evs = art14Events([x('CVE-2021-44228')], [x('CVE-2021-44228'), x('CVE-2024-3094')]);
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.type, 'Warning');
  assert.equal(evs[0]!.reason, 'Art14ReportingDue');
  assert.match(evs[0]!.note, /^CVE-2024-3094 is actively exploited/);
  assert.match(evs[0]!.note, /early warning by 2028-02-02T09:00:00Z \(Art\. 14\(2\)\(a\)\)/);
  assert.match(evs[0]!.note, /notification by 2028-02-04T09:00:00Z \(Art\. 14\(2\)\(b\)\)/);
  assert.match(evs[0]!.note, /Art\. 14\(2\)\(c\)/);
  assert.deepEqual(art14Events(undefined, undefined), []);
  assert.deepEqual(art14Events([x('CVE-1')], [x('CVE-1')]), [], 'no repeat once reported in status');
});
