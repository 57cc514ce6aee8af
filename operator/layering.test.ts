/**
 * The one-way layering rule (issue #15 item 9), enforced on the import graph of operator/**.ts:
 *
 *   watch (kube/, controller/) → evidence (evidence/, IO) → checks (checks/, pure) ; engine (engine/) runs checks
 *
 *  - checks/** imports nothing from evidence/**: the `Evidence` shape both read lives in the shared types module
 *    operator/types/evidence.ts (which imports neither layer's code, only field types).
 *  - evidence/** imports nothing from checks/** (it fills `Evidence` from operator/types/evidence.ts).
 *  - cli/** imports nothing from controller/** (the CLI uses the engine).
 *  - engine/** imports nothing from controller/, cli/, kube/, webhook/ or evidence/.
 *  - webhook/** reaches evidence/** only through its interface module `webhook/registry.ts`.
 *
 * A static scan of `import … from '…'`, `export … from '…'` and `import('…')` specifiers, resolved relative to the
 * importing file. Test files are exempt (they may wire real components together).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

/** Product sources under `dir` (tests excluded), absolute paths. */
function sourceFiles(dir: string): string[] {
  return globSync('**/*.ts', { cwd: dir })
    .filter((f) => !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

const IMPORT_RE = /\b(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every relative import edge of operator/**.ts, as paths relative to operator/ with `/` separators. */
export function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[3] ?? m[4];
      if (spec === undefined || !spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      edges.push({
        from: relative(root, file).split(sep).join('/'),
        to: relative(root, target).split(sep).join('/'),
        typeOnly: m[2] !== undefined,
      });
    }
  }
  return edges;
}

const under = (p: string, dir: string): boolean => p.startsWith(`${dir}/`);

/** The rule an edge breaks, or undefined. */
export function violation(e: Edge): string | undefined {
  if (under(e.from, 'checks') && under(e.to, 'evidence')) return 'checks must not import evidence/';
  if (under(e.from, 'evidence') && under(e.to, 'checks')) return 'evidence must not import checks/ (types: types/evidence.ts)';
  if (under(e.from, 'types') && (under(e.to, 'checks') || under(e.to, 'evidence'))) return 'types/ must not import checks/ or evidence/';
  if (under(e.from, 'cli') && under(e.to, 'controller')) return 'cli must not import controller/ (use engine/)';
  if (under(e.from, 'engine')) {
    for (const d of ['controller', 'cli', 'kube', 'webhook', 'evidence']) {
      if (under(e.to, d)) return `engine must not import ${d}/`;
    }
  }
  if (under(e.from, 'webhook') && under(e.to, 'evidence') && e.from !== 'webhook/registry.ts') {
    return 'webhook reaches evidence/ only through webhook/registry.ts';
  }
  return undefined;
}

/**
 * Known violations still to be removed, each with its reason. Keep this list short and explicit; an entry that no
 * longer matches an edge fails the test so the list cannot go stale.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([]);

test('the scan sees the import graph (sanity)', () => {
  const edges = importGraph();
  assert.ok(edges.length > 100, `only ${edges.length} edges found`);
  assert.ok(edges.some((e) => e.from === 'engine/evaluate.ts' && e.to === 'checks/index.ts'));
  assert.ok(edges.some((e) => e.typeOnly));
});

test('the rules catch each kind of upward import', () => {
  assert.ok(violation({ from: 'checks/x.ts', to: 'evidence/y.ts', typeOnly: true }));
  assert.ok(violation({ from: 'evidence/x.ts', to: 'checks/index.ts', typeOnly: false }));
  assert.ok(violation({ from: 'evidence/x.ts', to: 'checks/types.ts', typeOnly: true }));
  assert.equal(violation({ from: 'evidence/x.ts', to: 'types/evidence.ts', typeOnly: true }), undefined);
  assert.ok(violation({ from: 'types/evidence.ts', to: 'evidence/signatures.ts', typeOnly: true }));
  assert.ok(violation({ from: 'cli/x.ts', to: 'controller/reconcile.ts', typeOnly: false }));
  assert.ok(violation({ from: 'engine/x.ts', to: 'kube/client.ts', typeOnly: true }));
  assert.ok(violation({ from: 'webhook/gate.ts', to: 'evidence/oci/reference.ts', typeOnly: false }));
  assert.equal(violation({ from: 'webhook/registry.ts', to: 'evidence/oci/client.ts', typeOnly: false }), undefined);
});

test('layers are one-way: no lower layer imports a higher one', () => {
  const found = importGraph()
    .map((e) => ({ key: `${e.from} -> ${e.to}`, rule: violation(e) }))
    .filter((v) => v.rule !== undefined);
  const unexpected = found.filter((v) => !ALLOWED.has(v.key)).map((v) => `${v.key}: ${v.rule}`);
  assert.deepEqual(unexpected, [], `layering violations:\n${unexpected.join('\n')}`);
  const stale = [...ALLOWED.keys()].filter((k) => !found.some((v) => v.key === k));
  assert.deepEqual(stale, [], 'allow-list entries that no longer match an import (remove them)');
});
