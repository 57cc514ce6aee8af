import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { generateTypes, OUTPUT, CRD_DIR } from './gen-types.ts';

void describe('gen-types', () => {
  void it('operator/api/types.gen.ts is up to date with crds/', async () => {
    const fresh = await generateTypes();
    const committed = await readFile(OUTPUT, 'utf8');
    assert.ok(
      fresh === committed,
      'operator/api/types.gen.ts is stale: the CRDs in crds/ changed. Run `npm run gen:types` and commit the result.',
    );
  });

  void it('exports the stable type names other modules import', async () => {
    const ts = await generateTypes();
    for (const name of [
      'ProductReleaseSpec',
      'ProductReleaseStatus',
      'ReleasePolicySpec',
      'ReleasePolicyStatus',
      'Artifact',
      'SbomSource',
      'Source',
      'Updates',
      'Condition',
      'CheckResult',
      'PolicyCheck',
      'Waiver',
      'LabelSelector',
    ]) {
      assert.match(ts, new RegExp(`^export (interface|type) ${name}\\b`, 'm'), `missing ${name}`);
    }
    assert.match(ts, /^export type Decision = 'Pending' \| 'Approved' \| 'Blocked';$/m);
    assert.match(ts, /^export type CheckOutcome = 'Pass' \| 'Fail' \| 'Error' \| 'Waived' \| 'Skipped';$/m);
    assert.match(ts, /^export type PolicyEnforcement = 'Block' \| 'Warn' \| 'Off';$/m);
    // exact objects: no index signatures except where the schema preserves unknown fields (params, matchLabels)
    assert.equal((ts.match(/\[k: string\]/g) ?? []).length, 2);
    // shared shapes are emitted once
    assert.equal((ts.match(/^export interface Condition \{/gm) ?? []).length, 1);
    assert.equal((ts.match(/^export interface Source \{/gm) ?? []).length, 1);
  });

  void it('rejects one title used for two different shapes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gen-types-'));
    try {
      const crd = await readFile(path.join(CRD_DIR, 'productreleases.cra-gate.dev.yaml'), 'utf8');
      // give the SBOM ConfigMap reference (key required) the same title as the optional-key one
      await writeFile(path.join(dir, 'x.yaml'), crd.replace('title: ConfigMapKeyRef', 'title: ConfigMapRef'));
      await assert.rejects(generateTypes(dir), /title ConfigMapRef is used for different schemas/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('every field of every CRD has a description (kubectl explain teaches the API)', async () => {
    const undocumented: string[] = [];
    let fields = 0;
    interface SchemaNode {
      description?: unknown;
      properties?: Record<string, SchemaNode>;
      items?: SchemaNode;
    }
    const walk = (node: SchemaNode, where: string): void => {
      for (const [name, prop] of Object.entries(node.properties ?? {})) {
        fields++;
        if (name !== 'metadata' && !(typeof prop.description === 'string' && prop.description.length >= 10)) {
          undocumented.push(`${where}.${name}`);
        }
        walk(prop, `${where}.${name}`);
      }
      if (node.items) walk(node.items, `${where}[]`);
    };
    for (const f of (await readdir(CRD_DIR)).filter((n) => n.endsWith('.yaml'))) {
      const crd = yaml.load(await readFile(path.join(CRD_DIR, f), 'utf8')) as {
        spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
      };
      for (const v of crd.spec.versions) walk(v.schema.openAPIV3Schema, crd.spec.names.kind);
    }
    assert.ok(fields > 100, `only ${fields} fields`);
    assert.deepEqual(undocumented, []);
  });
});
