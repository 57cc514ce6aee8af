import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FeedFormatError } from '../vuln/errors.ts';
import { vexVerdict } from './apply.ts';
import { parseVex } from './parse.ts';

const FX = new URL('../../test/fixtures/vuln/vex/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));
const log4j = { purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar', ref: 'log4j-core' };
// The CISA examples name their product only by bom-ref and name; bound here through a purl-carrying subject.
const withSubject = (file: string) => {
  const raw = JSON.parse(read(file).toString()) as { metadata: { component: Record<string, unknown> } };
  raw.metadata.component.purl = 'pkg:generic/acme/abc@4.2';
  return JSON.stringify(raw);
};
const abc = { purl: 'pkg:generic/acme/abc@4.2', version: '4.2' };

describe('VEX', () => {
  it('CycloneDX VEX (CISA use case 1): statuses map and only not_affected/fixed suppress', () => {
    const expected: Record<string, [string, boolean]> = {
      not_affected: ['not_affected', true],
      fixed: ['fixed', true],
      affected: ['affected', false],
      under_investigation: ['under_investigation', false],
    };
    for (const [file, [status, suppresses]] of Object.entries(expected)) {
      const doc = parseVex(withSubject(`cisa-case1-${file}.cdx.json`));
      assert.equal(doc.format, 'cyclonedx');
      assert.deepEqual(doc.problems, [], file);
      // The statement names the product (metadata.component bom-ref): it covers every component of it.
      const v = vexVerdict({ documents: [{ source: file, doc }] }, ['GHSA-jfh8-c2jp-5v3q', 'CVE-2021-44228'], log4j, abc);
      assert.equal(v?.status, status, file);
      assert.equal(v?.suppresses, suppresses, file);
      assert.equal(vexVerdict({ documents: [{ source: file, doc }] }, ['CVE-2099-0001'], log4j, undefined), undefined);
    }
  });

  it('OpenVEX: not_affected needs a justification or impact statement; affected an action statement', () => {
    const doc = parseVex(read('synthetic-openvex.json'));
    assert.equal(doc.format, 'openvex');
    assert.equal(doc.statements.length, 2);
    assert.deepEqual(doc.problems.map((p) => p.pointer), ['/statements/1', '/statements/2']);
    const set = { documents: [{ source: 'openvex', doc }] };
    const editor = { purl: 'pkg:npm/lhc-vdm-editor@0.0.1' };
    assert.equal(vexVerdict(set, ['GHSA-f8q6-p94x-37v3', 'CVE-2022-3517'], { purl: 'pkg:npm/minimatch@3.0.4' }, editor)?.suppresses, true);
    // the unjustified not_affected for ws never suppresses: it is not even a statement
    assert.equal(vexVerdict(set, ['GHSA-6fc8-4gx4-v693'], { purl: 'pkg:npm/ws@6.2.1' }, editor), undefined);
    // a statement for another version of the subcomponent does not apply
    assert.equal(vexVerdict(set, ['CVE-2022-3517'], { purl: 'pkg:npm/minimatch@3.0.5' }, editor), undefined);
    // nor one for another product (no SBOM primary component: nothing to bind to)
    assert.equal(vexVerdict(set, ['CVE-2022-3517'], { purl: 'pkg:npm/minimatch@3.0.4' }, undefined), undefined);
  });

  it('CSAF VEX profile: product tree purls, flags as justification, remediation required for known_affected', () => {
    const doc = parseVex(read('synthetic-csaf-vex.json'));
    assert.equal(doc.format, 'csaf');
    assert.equal(doc.statements.length, 1);
    assert.match(doc.problems[0]!.message, /known_affected product ACME-LOGGER-1.0.0:LOG4J-2.14.1 has no remediation/);
    const v = vexVerdict({ documents: [{ source: 'csaf', doc }] }, ['CVE-2021-44228'], log4j, { purl: 'pkg:generic/acme/acme-logger@1.0.0' });
    assert.deepEqual([v?.status, v?.justification, v?.suppresses], ['not_affected', 'vulnerable_code_not_in_execute_path', true]);
  });

  it('rejects documents that are not VEX with a clear error', () => {
    assert.throws(() => parseVex('{'), (e: Error) => e instanceof FeedFormatError && /not valid JSON/.test(e.message));
    assert.throws(() => parseVex('{"foo":1}'), /not OpenVEX, CSAF VEX or CycloneDX VEX/);
    assert.throws(() => parseVex('{"document":{"category":"csaf_security_advisory"}}'), /not "csaf_vex"/);
    const unknown = parseVex('{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"maybe"},"affects":[{"ref":"x"}]}]}');
    assert.match(unknown.problems[0]!.message, /unknown analysis state/);
  });
});
