/**
 * No process-wide state in library code (issue #15 item 10), checked statically on operator/**.ts (test files
 * exempt):
 *
 *  1. The environment is parsed once, by the composition roots: operator/config.ts (+ network-config.ts, which
 *     takes the environment as a parameter) for the operator, the CLI's `processIO()` for the CLI; main.ts hands
 *     `process.env` to the logger. Any other `process.env` in operator/ fails.
 *  2. No module-level mutable state: a module-scope `let`/`var`, a module-scope Map/Set that the module mutates
 *     (`.set/.add/.delete/.clear`), or a module-scope `new SomeClass(…)` fails unless allow-listed below with its
 *     reason. Caches and limits that change behaviour across releases (the feed store, the SBOM analysis cache and
 *     worker limit, the registry content cache) live in the EvidenceRuntime the composition roots create.
 *
 * Both allow-lists fail on a stale entry, so they cannot silently outlive the code they excuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** Product sources under `dir` (tests excluded), absolute paths. */
function sourceFiles(dir: string): string[] {
  return globSync('**/*.ts', { cwd: dir })
    .filter((f) => !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

/** Source text without comments (block and line comments; good enough for our own style, no `//` in strings matters here). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const files = sourceFiles(root).map((f) => ({ path: relative(root, f).split(sep).join('/'), text: code(readFileSync(f, 'utf8')) }));

/** Files that may read process.env: the composition roots, and why. */
const ENV_READERS: Readonly<Record<string, string>> = {
  'config.ts': "the operator's configuration: flags and environment, parsed once at start-up",
  'main.ts': "the operator's composition root (hands process.env to the logger)",
  'cli/io.ts': "the CLI's composition root: processIO() is the CLI's view of the process",
};

void test('library code reads no process.env (only the composition roots parse the environment)', () => {
  const readers = files.filter((f) => /\bprocess\.env\b/.test(f.text)).map((f) => f.path);
  const offenders = readers.filter((p) => !(p in ENV_READERS));
  assert.deepEqual(offenders, [], `process.env read outside the composition roots (pass the setting in as an option instead): ${offenders.join(', ')}`);
  const stale = Object.keys(ENV_READERS).filter((p) => !readers.includes(p));
  assert.deepEqual(stale, [], `stale ENV_READERS entries: ${stale.join(', ')}`);
});

/**
 * Module-scope state that is allowed, `file:name` → why. Memos of what ships with the package (schemas, rules,
 * paths, the version) are computed once and never differ between releases or callers; WeakMap memos of pure
 * functions die with their keys.
 */
const MODULE_STATE: Readonly<Record<string, string>> = {
  'util/package-root.ts:root': 'memo: the package root directory (install location; immutable for the process)',
  'util/version.ts:version': 'memo: the version from package.json',
  'sbom/xml.ts:schemaDir': 'memo: directory of the shipped XSDs',
  'sbom/xml.ts:xsdCache': 'memo: shipped XSD texts by name',
  'sbom/xml.ts:xmlParser': 'a configured XML parser, created on first use; stateless between parses',
  'sbom/schema-compile.ts:cdxDir': 'memo: directory of the shipped CycloneDX schemas',
  'sbom/schema-compile.ts:depsMemo': 'memo: the formats and helpers the shipped validators refer to (immutable)',
  'sbom/schema.ts:validators': 'memo: compiled (or precompiled) validators of the shipped JSON schemas',
  'sbom/model.ts:urlMemo': 'bounded memo (4096 strings) of a pure function (is this string an http(s) URL): changes time, never a result',
  'sbom/model.ts:algMemo': 'bounded memo (256 strings) of a pure function (hash algorithm name normalised): changes time, never a result',
  'sbom/rules.ts:depIndexes': 'WeakMap memo: the dependency index of a model (read by several rules; dies with the model)',
  'sbom/rules.ts:completenessIndexes': 'WeakMap memo: the refs of a model with stated completeness (dies with the model)',
  'sbom/rules.ts:refIndexes': 'WeakMap memo: the components of a model by ref (dies with the model)',
  'secure-defaults/rules.ts:schemaAjv': 'compiled rule-schema validator (recreated on reset; shipped schemas only)',
  'secure-defaults/rules.ts:metaAjv': 'Ajv instance for the shipped meta-schema',
  'secure-defaults/rules.ts:compiled': 'memo: compiled validators of rule schemas by canonical text (pure function of the text)',
  'validation/cel.ts:env': 'memo: the CEL environment for the CRDs\' x-kubernetes-validations',
  'cli/load.ts:sharedValidator': 'memo: the CRD schema validator (shipped CRDs)',
  'evidence/secure-defaults.ts:builtinCache': 'memo: the built-in rules shipped under policies/rules/ (keyed by directory)',
  'evidence/https.ts:blocked': 'the SSRF guard\'s special-address list, filled once at load and only read',
  'validation/yaml.ts:goNull': 'a js-yaml type definition (immutable)',
  'validation/yaml.ts:goBool': 'a js-yaml type definition (immutable)',
  'validation/yaml.ts:goInt': 'a js-yaml type definition (immutable)',
  'validation/yaml.ts:goFloat': 'a js-yaml type definition (immutable)',
  'vuln/art14.ts:ART14_APPLIES_FROM': 'a constant date',
  'kube/projection.ts:shared':
    'bounded intern table of equal strings for the informer caches (issue 16 memory): sharing it changes memory, never a result',
  'vuln/osv.ts:interned': 'bounded intern table (1024 short strings) for OSV parsing: sharing it changes memory, never a result',
  'vuln/evidence.ts:memo': 'WeakMap memo of a pure function, keyed by the evidence objects (dies with them)',
  'vex/bind.ts:memo': 'WeakMap memo of a pure function, keyed by the product/target objects (dies with them)',
  'vuln/match.ts:sortedEvents': 'WeakMap memo: the sorted events of an OSV range object (dies with it)',
  'kube/pool.ts:authentications':
    'WeakMap keyed by the KubeConfig a composition root made: its API connection pools, shared by every client built from it (dies with the KubeConfig)',
};

/** Module-scope declarations (column 0): `let`/`var` with or without an initializer, `const` with one. */
const DECL_RE = /^(?:export\s+)?(let|var|const)\s+([A-Za-z_$][\w$]*)\b[^=\n]*?(?:=\s*(.*))?$/gm;

void test('no module-level mutable state in operator/ (caches and limits are passed in by the composition roots)', () => {
  const found: string[] = [];
  for (const f of files) {
    for (const m of f.text.matchAll(DECL_RE)) {
      const [, kind, name] = m as unknown as [string, string, string];
      const init = m[3] ?? '';
      const key = `${f.path}:${name}`;
      const escaped = name.replace(/\$/g, '\\$');
      if (kind !== 'const') {
        found.push(key);
        continue;
      }
      const collection = /^new\s+(Map|Set|WeakMap|WeakSet)\b/.exec(init);
      if (collection) {
        // A module-scope collection is state when the module changes it.
        if (new RegExp(`\\b${escaped}\\.(set|add|delete|clear)\\(`).test(f.text)) found.push(key);
        continue;
      }
      if (/^new\s+[\w.$]+\s*\(/.test(init)) found.push(key);
    }
  }
  const offenders = found.filter((k) => !(k in MODULE_STATE));
  assert.deepEqual(offenders, [], `module-level state (create it in a composition root and pass it in, or allow-list it with its reason): ${offenders.join(', ')}`);
  const stale = Object.keys(MODULE_STATE).filter((k) => !found.includes(k));
  assert.deepEqual(stale, [], `stale MODULE_STATE entries: ${stale.join(', ')}`);
});

void test('the scan sees what it must: the removed singletons would be caught', () => {
  const probe = (text: string) => [...code(text).matchAll(DECL_RE)].map((m) => m[2]);
  assert.deepEqual(probe('export const feedStore = new FeedStore();\nlet running = 0;\nlet cache: { dir: string; n: number } | undefined;\nconst x = 1;'), ['feedStore', 'running', 'cache', 'x']);
  assert.equal(/\bprocess\.env\b/.test(code("if (process.env.CRA_GATE_OFFLINE === '1') throw x;")), true);
  assert.equal(/\bprocess\.env\b/.test(code('// process.env is not read here')), false);
});

/** The only modules that open outbound connections for evidence; both refuse every request without network 'allow'. */
const NETWORK_CLIENTS = ['evidence/https.ts', 'evidence/oci/client.ts'];
/**
 * Not evidence: the Kubernetes API transport (issue 16). It builds the undici connection pool that
 * @kubernetes/client-node's requests to the kubeconfig's API server use; it sends nothing itself.
 */
const API_TRANSPORT = ['kube/pool.ts'];

void test('outbound requests only through the two clients that enforce the network capability', () => {
  // request/get from node:http(s), raw sockets, the global fetch, undici: any of these elsewhere would bypass the capability.
  const outbound = /\bimport\s*\{[^}]*\b(request|get|Agent)\b[^}]*\}\s*from\s*'node:https?'|from\s*'node:(net|tls)'\s*;[\s\S]*?\b(connect|createConnection)\(|globalThis\.fetch\(|(?:^|[=(,;!?:]|\breturn|\bawait)\s*fetch\(|from\s*'undici'/;
  const users = files.filter((f) => outbound.test(f.text)).map((f) => f.path);
  assert.deepEqual(users.filter((p) => !NETWORK_CLIENTS.includes(p) && !API_TRANSPORT.includes(p)), [], 'an outbound HTTP client outside evidence/https.ts and evidence/oci/client.ts');
  assert.deepEqual([...NETWORK_CLIENTS, ...API_TRANSPORT].filter((p) => !users.includes(p)), [], 'stale NETWORK_CLIENTS / API_TRANSPORT entry');
  for (const bad of ["import { request } from 'node:https';", 'const r = await fetch(url);', "import { get as g } from 'node:http';"]) assert.match(bad, outbound, bad);
  for (const fine of ['await opts.fetch(url, o);', 'private async fetch(ref) {', "import type { IncomingMessage } from 'node:http';"]) assert.doesNotMatch(fine, outbound, fine);
});
