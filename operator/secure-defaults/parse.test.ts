import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCraGateError } from '../errors.ts';
import { DEFAULT_LIMITS, isKnownKind, parseManifests, parseSettings } from './parse.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'secure-defaults');
const file = (rel: string): { name: string; text: string } => ({ name: path.basename(rel), text: readFileSync(path.join(dir, rel), 'utf8') });

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isCraGateError(err), 'a coded error');
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('parseManifests', () => {
  it('parses a rendered chart: skips empty documents, keeps order and file positions', () => {
    const docs = parseManifests([file('hardened/manifests.yaml')]);
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.name}`), [
      'ServiceAccount/acme-router', 'ConfigMap/acme-router-config', 'Service/acme-router', 'Role/acme-router',
      'Deployment/acme-router', 'CronJob/acme-router-rotate',
    ]);
    assert.deepEqual(docs.map((d) => d.index), [0, 1, 2, 3, 4, 5]);
    assert.equal(docs[1]!.position, 1);
  });

  it('flattens several files into one index space and v1 Lists into their items', () => {
    const docs = parseManifests([
      { name: 'a.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' },
      { name: 'b.yaml', text: 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n- {apiVersion: v1, kind: Service, metadata: {name: svc}}\n' },
    ]);
    assert.deepEqual(docs.map((d) => [d.index, d.file, d.kind]), [[0, 'a.yaml', 'ConfigMap'], [1, 'b.yaml', 'Secret'], [2, 'b.yaml', 'Service']]);
  });

  it('malformed YAML: a clear error with file, document and line', () => {
    rejects(() => parseManifests([file('malformed/syntax.yaml')]), 'MalformedSecureDefaults', /manifests syntax\.yaml: invalid YAML at line \d+, column \d+/);
  });

  it('an unknown kind of a built-in API group is an error (a typo would silently skip every check)', () => {
    rejects(() => parseManifests([file('malformed/unknown-kind.yaml')]), 'MalformedSecureDefaults', /unknown kind "Deploymnet" in the built-in API group apps \(apps\/v1\)/);
    assert.equal(isKnownKind('apps/v1', 'Deployment'), true);
    assert.equal(isKnownKind('monitoring.coreos.com/v1', 'ServiceMonitor'), undefined);
  });

  it('custom resources are accepted', () => {
    const docs = parseManifests([file('malformed/custom-resource.yaml')]);
    assert.equal(docs[0]?.kind, 'ServiceMonitor');
  });

  it('documents that are not objects, or lack apiVersion/kind, are errors', () => {
    rejects(() => parseManifests([file('malformed/not-an-object.yaml')]), 'MalformedSecureDefaults', /document 1: a document must be a Kubernetes object \(a YAML mapping\), got a list/);
    rejects(() => parseManifests([{ name: 'x.yaml', text: 'kind: Pod\nmetadata: {name: p}\n' }]), 'MalformedSecureDefaults', /document 1: missing apiVersion/);
    rejects(() => parseManifests([{ name: 'x.yaml', text: 'apiVersion: v1\nmetadata: {name: p}\n' }]), 'MalformedSecureDefaults', /missing kind/);
    rejects(() => parseManifests([{ name: 'x.yaml', text: 'apiVersion: v1\nkind: ConfigMap\ndata: {a: 1, a: 2}\n' }]), 'MalformedSecureDefaults', /duplicated mapping key/);
  });

  it('an alias bomb stops at the node budget instead of exhausting memory', () => {
    rejects(() => parseManifests([file('malformed/alias-bomb.yaml')]), 'SecureDefaultsTooLarge', /more than 200000 values \(after expanding YAML aliases\)/);
  });

  it('huge files, too many documents and too deep nesting are bounded', () => {
    const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: "${'x'.repeat(DEFAULT_LIMITS.maxFileBytes)}"\n`;
    rejects(() => parseManifests([{ name: 'big.yaml', text: big }]), 'SecureDefaultsTooLarge', /big\.yaml: \d+ bytes exceeds the limit of 4194304/);
    const many = Array.from({ length: 11 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('---\n');
    rejects(() => parseManifests([{ name: 'many.yaml', text: many }], { ...DEFAULT_LIMITS, maxDocuments: 10 }), 'SecureDefaultsTooLarge', /more than 10 objects/);
    const deep = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${'['.repeat(80)}${']'.repeat(80)}\n`;
    rejects(() => parseManifests([{ name: 'deep.yaml', text: deep }]), 'SecureDefaultsTooLarge', /nested deeper than 64 levels/);
  });

  it('timestamps stay the strings they were written as, as the API server sees them after YAML→JSON', () => {
    const [doc] = parseManifests([{ name: 't.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, annotations: {released: 2028-01-15}}\n' }]);
    assert.equal((doc!.object.metadata as { annotations: { released: unknown } }).annotations.released, '2028-01-15');
  });
});

describe('parseSettings', () => {
  it('reads YAML and JSON', () => {
    assert.deepEqual(parseSettings({ name: 's.json', text: '{"debug": false, "tls": {"enabled": true}}' }).data, { debug: false, tls: { enabled: true } });
    assert.deepEqual(parseSettings({ name: 's.yaml', text: 'debug: false\n' }).data, { debug: false });
  });

  it('rejects empty, scalar, multi-document and invalid files clearly', () => {
    rejects(() => parseSettings({ name: 'e.yaml', text: '# nothing\n' }), 'MalformedSecureDefaults', /settings e\.yaml: the file is empty/);
    rejects(() => parseSettings({ name: 's.yaml', text: 'just a string\n' }), 'MalformedSecureDefaults', /must be a mapping or a list/);
    rejects(() => parseSettings({ name: 'm.yaml', text: 'a: 1\n---\nb: 2\n' }), 'MalformedSecureDefaults', /invalid YAML/);
    rejects(() => parseSettings({ name: 'j.json', text: '{"a": ' }), 'MalformedSecureDefaults', /settings j\.json: invalid JSON/);
  });
});
