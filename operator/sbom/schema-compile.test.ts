import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { allUnique, compileValidator, fingerprint, loadPrecompiled, standaloneModule, VALIDATOR_KEYS } from './schema-compile.ts';
import { packagePath } from '../util/package-root.ts';

/** Every JSON fixture SBOM, plus mutations that break the schema in the ways the keywords check. */
function corpus(): { name: string; doc: unknown }[] {
  const out: { name: string; doc: unknown }[] = [];
  const root = packagePath('test', 'fixtures', 'sbom');
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.json') || e.name.endsWith('.expected.json') || e.name.endsWith('.golden.json')) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(join(e.parentPath, e.name), 'utf8'));
    } catch {
      continue; // truncated.cdx.json and the like: not JSON, nothing to validate
    }
    out.push({ name: e.name, doc });
    const d = doc as Record<string, unknown>;
    if (!Array.isArray(d.components) || d.components.length === 0) continue;
    const c0 = d.components[0] as Record<string, unknown>;
    const mutate = (what: string, f: (m: Record<string, unknown>, c: Record<string, unknown>) => void) => {
      const m = structuredClone(d);
      f(m, (m.components as Record<string, unknown>[])[0]!);
      out.push({ name: `${e.name} ${what}`, doc: m });
    };
    mutate('duplicate component (uniqueItems)', (m) => (m.components as unknown[]).push(structuredClone(c0)));
    mutate('wrong type', (_m, c) => (c.type = 42));
    mutate('unknown property', (_m, c) => (c.unexpected = true));
    mutate('bad enum', (_m, c) => (c.type = 'not-a-type'));
    mutate('bad date-time', (m) => (m.metadata = { ...(m.metadata as object), timestamp: '2024-13-45T99:00:00Z' }));
    mutate('bad email', (_m, c) => (c.supplier = { name: 'x', contact: [{ email: 'not an email' }] }));
    mutate('bad iri', (_m, c) => (c.externalReferences = [{ type: 'website', url: 42 }]));
    mutate('missing required', (_m, c) => delete c.name);
    mutate('bad hash', (_m, c) => (c.hashes = [{ alg: 'SHA-512', content: 'zz' }]));
  }
  return out;
}

test('the precompiled (Ajv standalone) validators agree with freshly compiled ones on valid and invalid documents', { timeout: 600_000 }, () => {
  const docs = corpus();
  assert.ok(docs.length > 100, `only ${docs.length} documents`);
  const dir = mkdtempSync(join(tmpdir(), 'cra-validators-'));
  try {
    let valid = 0;
    let invalid = 0;
    for (const key of VALIDATOR_KEYS) {
      const file = join(dir, `${key}.cjs`);
      writeFileSync(file, standaloneModule(key));
      const pre = loadPrecompiled(file, key);
      assert.ok(pre, `${key}: precompiled module not loaded`);
      const fresh = compileValidator(key);
      for (const { name, doc } of docs) {
        const a: boolean = pre(doc);
        const b: boolean = fresh(doc);
        assert.equal(a, b, `${key} ${name}: valid ${a} vs ${b}`);
        assert.deepEqual(pre.errors ?? null, fresh.errors ?? null, `${key} ${name}: errors differ`);
        if (a) valid++;
        else invalid++;
      }
    }
    // Both outcomes were exercised, so agreement means something.
    assert.ok(valid > 20 && invalid > 200, `valid ${valid}, invalid ${invalid}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a precompiled module generated from other inputs (stale fingerprint) or for another schema is never used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cra-validators-'));
  try {
    const file = join(dir, 'spdx-2.3.cjs');
    const text = standaloneModule('spdx-2.3');
    writeFileSync(file, text.replace(fingerprint('spdx-2.3'), '0'.repeat(64)));
    assert.equal(loadPrecompiled(file, 'spdx-2.3'), undefined);
    const other = join(dir, 'spdx-2.2.cjs');
    writeFileSync(other, text);
    assert.equal(loadPrecompiled(other, 'spdx-2.2'), undefined);
    const broken = join(dir, 'cdx-1.6.cjs');
    writeFileSync(broken, 'this is not javascript');
    assert.equal(loadPrecompiled(broken, 'cdx-1.6'), undefined);
    assert.equal(loadPrecompiled(join(dir, 'absent.cjs'), 'cdx-1.6'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The definition: deep equality with key order irrelevant, via canonical JSON (sorted keys) of every item. */
function naiveUnique(items: readonly unknown[]): boolean {
  const canon = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(canon).join(',')}]`
      : typeof v === 'object' && v !== null
        ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`
        : (JSON.stringify(v) ?? 'undefined');
  return new Set(items.map(canon)).size === items.length;
}

function reorderKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorderKeys(x, seed));
  if (typeof v !== 'object' || v === null) return v;
  const keys = Object.keys(v);
  const order = seed % 2 === 0 ? keys.reverse() : [...keys.slice(seed % (keys.length || 1)), ...keys.slice(0, seed % (keys.length || 1))];
  return Object.fromEntries(order.map((k) => [k, reorderKeys((v as Record<string, unknown>)[k], seed)]));
}

test('allUnique agrees with the canonical-JSON definition of uniqueItems (random JSON, shared shapes, reordered duplicates)', () => {
  const small = fc.oneof(fc.constantFrom('a', 'b', 1, 2, true, null), fc.integer({ min: 0, max: 3 }));
  const item = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ 'bom-ref': small, name: small, hashes: fc.array(fc.record({ alg: small, content: small }), { maxLength: 2 }) }, { requiredKeys: [] }),
    fc.dictionary(fc.constantFrom('x', 'y', 'z'), fc.oneof(small, fc.array(small, { maxLength: 2 }))),
  );
  fc.assert(
    fc.property(fc.array(item, { maxLength: 20 }), fc.nat(), fc.boolean(), (items, seed, dup) => {
      const list = dup && items.length > 0 ? [...items, reorderKeys(items[seed % items.length], seed)] : items;
      assert.equal(allUnique(list), naiveUnique(list));
    }),
    { numRuns: 3000 },
  );
});
