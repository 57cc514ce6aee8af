import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { listChecks } from '../operator/checks/index.ts';
import { generateChecksDoc, OUTPUT, REGENERATE } from './gen-checks-doc.ts';

void describe('gen-checks-doc', () => {
  void it('docs/checks.md is current with the check definitions', async () => {
    const committed = await readFile(OUTPUT, 'utf8').catch(() => '');
    assert.ok(committed === generateChecksDoc(), `docs/checks.md is stale: the checks changed. Run \`${REGENERATE}\` and commit the result.`);
  });

  void it('documents every check with its CRA references, pass rule and fix', () => {
    const doc = generateChecksDoc();
    for (const c of listChecks()) {
      assert.match(doc, new RegExp(`^## ${c.id.replace(/\./g, '\\.')}$`, 'm'));
      for (const ref of c.cra) assert.ok(doc.includes(ref), `${c.id}: ${ref} missing`);
      assert.ok(doc.includes(c.fix.replace(/\s+/g, ' ').replaceAll('|', '\\|').trim()), `${c.id}: fix missing`);
    }
  });
});
