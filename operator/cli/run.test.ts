import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { run } from './run.ts';
import type { CliIO } from './io.ts';
import { listChecks } from '../checks/index.ts';
import type { Collector } from '../evidence/collect.ts';
import { offlineError } from './sources.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fx = (f: string): string => path.join('test', 'fixtures', 'cli', f);
const NOW = '2028-06-01T12:00:00Z';
const ESC = String.fromCharCode(27);
const ESC_SEQ = new RegExp(`${ESC}\\[`);
const RED_SEQ = new RegExp(`${ESC}\\[31m`);
const ERASE_SEQ = new RegExp(`\\r${ESC}\\[2K$`);

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], opts: { tty?: boolean; env?: Record<string, string>; collectors?: Collector[] } = {}): Promise<Captured> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (out += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: opts.tty ?? false },
    env: opts.env ?? {},
    cwd: root,
  };
  const code = await run(args, io, opts.collectors ? { collectors: opts.collectors } : {});
  return { code, out, err };
}

const all = ['evaluate', fx('releases.yaml'), '--policy', fx('policies.yaml'), '--configmap', fx('configmaps.yaml'), '--now', NOW];

function tmpFile(name: string, text: string): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-cli-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return { file, dir };
}

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

void describe('cra-gate evaluate: exit codes for every outcome', () => {
  void it('0 when every release is Approved', async () => {
    const r = await cli(['evaluate', fx('approved.yaml'), '--policy', fx('policies.yaml'), '--now', NOW]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1 approved, 0 blocked/);
  });

  void it('1 when a release is Blocked by failing checks', async () => {
    const r = await cli(all);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /3 approved, 1 blocked, 0 without a usable verdict → exit 1/);
  });

  void it('2 when a release has no verdict (its policy is not given)', async () => {
    const r = await cli(['evaluate', fx('missing-policy.yaml'), '--now', NOW]);
    assert.equal(r.code, 2);
    assert.match(r.err, /ReleasePolicy "no-such-policy" .* is not in the given files/);
    assert.match(r.out, /PolicyNotFound/);
  });

  void it('2 when a blocking check errors (unknown check id), even beside a blocked release', async () => {
    const r = await cli(['evaluate', fx('unknown-check-policy.yaml'), fx('releases.yaml'), '--policy', fx('policies.yaml'), '--now', NOW]);
    assert.equal(r.code, 2);
    assert.match(r.out, /ERROR quantum\.resistance/);
  });

  void it('2 when evidence could not be collected for a blocking check (--offline)', async () => {
    // A collector that, like every network collector, refuses to fetch offline.
    const network: Collector = (ctx) => Promise.reject(offlineError(`security.txt of ${ctx.release.metadata.name}`));
    const r = await cli([...all, '--offline', '--output', 'json'], { collectors: [network] });
    const list = JSON.parse(r.out) as { items: { evidenceErrors?: { reason: string; message: string }[] }[] };
    assert.ok(list.items.every((i) => i.evidenceErrors?.[0]?.reason === 'EvidenceUnavailable' && /not fetched \(offline/.test(i.evidenceErrors[0].message)));
  });

  void it('2 when --offline keeps a blocking check from its network evidence (real collectors)', async () => {
    const r = await cli(['evaluate', fx('offline.yaml'), '--offline', '--now', NOW]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /ERROR disclosure\.security-txt\s+EvidenceUnavailable: .*not fetched \(offline/);
  });

  void it('2 when the environment names an unreadable CA file (read from io.env, once, before any evaluation)', async () => {
    const r = await cli(['evaluate', fx('approved.yaml'), '--policy', fx('policies.yaml'), '--now', NOW], { env: { CRA_GATE_HTTP_CA_FILE: '/nonexistent/ca.pem' } });
    assert.equal(r.code, 2);
    assert.match(r.err, /CRA_GATE_HTTP_CA_FILE: cannot read \/nonexistent\/ca\.pem/);
  });

  void it('2 for bad usage', async () => {
    assert.equal((await cli(['evaluate'])).code, 2);
    assert.equal((await cli(['evaluate', fx('releases.yaml'), '--output', 'xml'])).code, 2);
    assert.equal((await cli(['evaluate', fx('releases.yaml'), '--bogus'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    assert.equal((await cli([])).code, 2);
    assert.equal((await cli(['evaluate', fx('policies.yaml')])).code, 2, 'a file with no ProductRelease');
  });
});

void describe('cra-gate evaluate: malformed files give a one-line error naming the file and the problem', () => {
  const cases: [string, RegExp][] = [
    [fx('bad-yaml.yaml'), /^cra-gate: test\/fixtures\/cli\/bad-yaml\.yaml:\d+: not valid YAML: /],
    [fx('invalid-release.yaml'), /^cra-gate: test\/fixtures\/cli\/invalid-release\.yaml:2: ProductRelease "invalid" is invalid: .*spec\.updates\.channel: Invalid value.*spec\.artifacts\[0\]\.digest: Required value/],
    [fx('unknown-field.yaml'), /^cra-gate: test\/fixtures\/cli\/unknown-field\.yaml:1: ProductRelease "typo" is invalid: unknown field "spec\.supportPeriod"/],
    [fx('not-a-manifest.yaml'), /^cra-gate: test\/fixtures\/cli\/not-a-manifest\.yaml:1: not a Kubernetes manifest/],
    [fx('does-not-exist.yaml'), /^cra-gate: test\/fixtures\/cli\/does-not-exist\.yaml: cannot read file: no such file/],
  ];
  for (const [file, re] of cases) {
    void it(path.basename(file), async () => {
      const r = await cli(['evaluate', file, '--policy', fx('policies.yaml')]);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.match(r.err, re);
    });
  }

  void it('a malformed policy file and a malformed ConfigMap file too', async () => {
    const pol = tmpFile('pol.yaml', 'apiVersion: cra-gate.dev/v1alpha1\nkind: ReleasePolicy\nmetadata: {name: p}\nspec:\n  checks:\n    - id: update.channel\n      enforcement: Off\n');
    const cm = tmpFile('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: 8080\n');
    try {
      const p = await cli(['evaluate', fx('releases.yaml'), '--policy', pol.file]);
      assert.equal(p.code, 2);
      assert.match(p.err, /pol\.yaml:1: ReleasePolicy "p" is invalid: spec\.checks\[0\]\.enforcement: Invalid value: "boolean"/);
      const c = await cli(['evaluate', fx('releases.yaml'), '--configmap', cm.file]);
      assert.equal(c.code, 2);
      assert.match(c.err, /cm\.yaml:1: ConfigMap "c" is invalid: data\[port\]: Invalid value: must be a string/);
    } finally {
      rmSync(pol.dir, { recursive: true, force: true });
      rmSync(cm.dir, { recursive: true, force: true });
    }
  });

  void it('a release defined twice', async () => {
    const copy = tmpFile('copy.yaml', readFileSync(path.join(root, fx('releases.yaml')), 'utf8'));
    try {
      const r = await cli(['evaluate', fx('releases.yaml'), copy.file, '--policy', fx('policies.yaml')]);
      assert.equal(r.code, 2);
      assert.match(r.err, /copy\.yaml:2: ProductRelease cli-fixtures\/router-approved is also defined at test\/fixtures\/cli\/releases\.yaml:2/);
    } finally {
      rmSync(copy.dir, { recursive: true, force: true });
    }
  });
});

void describe('cra-gate evaluate: output formats', () => {
  void it('json: a List whose items carry exactly the status shape', async () => {
    const r = await cli([...all, '-o', 'json']);
    const list = JSON.parse(r.out) as { kind: string; exitCode: number; items: { metadata: { name: string }; status: Record<string, unknown>; findings: Record<string, unknown[]> }[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.exitCode, 1);
    assert.equal(list.items.length, 4);
    const blocked = list.items.find((i) => i.metadata.name === 'camera-blocked')!;
    assert.deepEqual(Object.keys(blocked.status).sort(), ['checks', 'conditions', 'decision', 'evaluatedAt', 'observedGeneration', 'policy', 'summary']);
    assert.equal(blocked.status.decision, 'Blocked');
    assert.deepEqual(blocked.status.policy, { name: 'cli-strict', generation: 1 });
    assert.equal(blocked.status.evaluatedAt, '2028-06-01T12:00:00Z');
    assert.ok(blocked.findings['update.support-period']!.length > 0);
  });

  void it('junit: parses as JUnit XML with one suite per release and a failure per blocking failed check', async () => {
    const r = await cli([...all, '-o', 'junit']);
    assert.equal(XMLValidator.validate(r.out), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(r.out) as {
      testsuites: { '@tests': string; '@failures': string; testsuite: { '@name': string; '@failures': string; testcase: { '@name': string; failure?: { '@type': string; '#text': string } }[] }[] };
    };
    const suites = doc.testsuites.testsuite;
    assert.equal(suites.length, 4);
    assert.equal(doc.testsuites['@failures'], '4');
    assert.equal(doc.testsuites['@tests'], '19'); // update.channel is Off in cli-lenient: not run, not listed
    const camera = suites.find((s) => s['@name'] === 'cli-fixtures/camera-blocked')!;
    assert.equal(camera['@failures'], '4');
    const sp = camera.testcase.find((t) => t['@name'] === 'update.support-period')!;
    assert.equal(sp.failure?.['@type'], 'SupportPeriodTooShort');
    assert.match(sp.failure?.['#text'] ?? '', /Fix: Set spec\.updates\.supportEnd/);
    const approved = suites.find((s) => s['@name'] === 'cli-fixtures/router-approved')!;
    assert.ok(approved.testcase.every((t) => t.failure === undefined));
  });

  void it('junit: a release without a verdict is an <error>', async () => {
    const r = await cli(['evaluate', fx('missing-policy.yaml'), '-o', 'junit']);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(r.out) as { testsuites: { testsuite: { testcase: { '@name': string; error: { '@type': string } } } } };
    assert.equal(doc.testsuites.testsuite.testcase['@name'], 'evaluation');
    assert.equal(doc.testsuites.testsuite.testcase.error['@type'], 'PolicyNotFound');
  });

  void it('sarif: valid against the official SARIF 2.1.0 JSON schema', async () => {
    const schemaText = readFileSync(path.join(root, fx('sarif-schema-2.1.0.json')), 'utf8');
    assert.equal(createHash('sha256').update(schemaText).digest('hex'), 'ad389db5a66fad5c131178b0e1f18600ac625616cd5ea20a00ee8ee246dc7069', 'vendored schema changed');
    // ECMAScript has no inline (?i): give the schema's two such patterns the `i` flag instead. The schema also
    // has a misplaced `anyOf` under region.properties, which fails meta-validation: compile without it (see
    // sarif-schema-2.1.0.SOURCE.md); every other keyword is enforced.
    const regExp = (pattern: string, flags?: string): RegExp =>
      pattern.startsWith('(?i)') || pattern.startsWith('^(?i)') ? new RegExp(pattern.replace('(?i)', ''), `${flags ?? ''}i`) : new RegExp(pattern, flags);
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false, code: { regExp: Object.assign(regExp, { code: 'new RegExp' }) } });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(schemaText) as object);
    for (const args of [all, ['evaluate', fx('missing-policy.yaml'), fx('unknown-check-policy.yaml')]]) {
      const r = await cli([...args, '-o', 'sarif']);
      const log = JSON.parse(r.out) as { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[]; tool: { driver: { rules: { id: string }[] } } }[] };
      assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
      const results = log.runs[0]!.results;
      assert.ok(results.length > 0);
      for (const res of results) assert.ok(log.runs[0]!.tool.driver.rules.some((rule) => rule.id === res.ruleId));
    }
    // a failing check points at the line of the field it is about
    const r = await cli([...all, '-o', 'sarif']);
    const log = JSON.parse(r.out) as { runs: { results: { ruleId: string; level: string; message: { text: string }; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
    const sp = log.runs[0]!.results.find((x) => x.ruleId === 'update.support-period' && x.message.text.startsWith('cli-fixtures/camera-blocked'))!;
    assert.equal(sp.level, 'error');
    const lines = readFileSync(path.join(root, fx('releases.yaml')), 'utf8').split('\n');
    assert.match(lines[sp.locations[0]!.physicalLocation.region.startLine - 1]!, /^\s+supportEnd: "2030-02"/);
    const warn = log.runs[0]!.results.find((x) => x.message.text.startsWith('cli-fixtures/sensor-lenient'))!;
    assert.equal(warn.level, 'warning');
  });

  void it('markdown: a PR comment with a table per release', async () => {
    const r = await cli([...all, '-o', 'markdown']);
    assert.match(r.out, /^## ❌ cra-gate: 3 approved, 1 blocked/);
    assert.match(r.out, /### ❌ `cli-fixtures\/camera-blocked` — Blocked/);
    assert.match(r.out, /\| ❌ \| `update\.support-period` \| Fail \| Block \| SupportPeriodTooShort \|/);
    assert.match(r.out, /<details><summary>How to fix<\/summary>/);
  });

  void it('text: colour only on a TTY, and never with NO_COLOR', async () => {
    const plain = await cli(all);
    assert.doesNotMatch(plain.out, ESC_SEQ);
    const tty = await cli(all, { tty: true });
    assert.match(tty.out, RED_SEQ);
    const noColour = await cli(all, { tty: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColour.out, ESC_SEQ);
  });

  void it('--report writes further formats to files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-report-'));
    try {
      const r = await cli([...all, '--report', `sarif=${path.join(dir, 'x.sarif')}`, '--report', `junit=${path.join(dir, 'junit.xml')}`]);
      assert.equal(r.code, 1);
      assert.equal((JSON.parse(readFileSync(path.join(dir, 'x.sarif'), 'utf8')) as { version: string }).version, '2.1.0');
      assert.match(readFileSync(path.join(dir, 'junit.xml'), 'utf8'), /<testsuites /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe('cra-gate evaluate: progress on long evidence fetches', () => {
  const slow: Collector = () => new Promise((resolve) => setTimeout(() => resolve({}), 700));
  void it('shows a progress line on a TTY', async () => {
    const r = await cli(['evaluate', fx('releases.yaml'), '--policy', fx('policies.yaml'), '--now', NOW], { tty: true, collectors: [slow] });
    assert.match(r.err, /collecting evidence for cli-fixtures\/router-approved \(\d+\.\ds\)/);
    assert.match(r.err, ERASE_SEQ, 'the line is erased at the end');
  });
  void it('prints nothing when stderr is not a TTY', async () => {
    const r = await cli(['evaluate', fx('missing-policy.yaml'), '--policy', fx('policies.yaml')], { collectors: [slow] });
    assert.doesNotMatch(r.err, /collecting evidence/);
  });
});

void describe('cra-gate explain and checks', () => {
  void it('explain prints what the check reads, its pass rule, CRA and standard references and the fix', async () => {
    for (const c of listChecks()) {
      const r = await cli(['explain', c.id]);
      assert.equal(r.code, 0);
      assert.ok(r.out.includes(c.reads) && r.out.includes(c.passRule) && r.out.includes(c.fix), c.id);
      for (const ref of c.cra) assert.ok(r.out.includes(ref), `${c.id}: ${ref}`);
    }
  });

  void it('explain of an unknown id suggests the closest', async () => {
    const r = await cli(['explain', 'update.chanel']);
    assert.equal(r.code, 2);
    assert.match(r.err, /did you mean update\.channel\?/);
  });

  void it('checks lists every check, as text and JSON', async () => {
    const text = await cli(['checks']);
    for (const c of listChecks()) assert.match(text.out, new RegExp(`^${c.id.replace(/\./g, '\\.')}\\s`, 'm'));
    const json = JSON.parse((await cli(['checks', '-o', 'json'])).out) as { id: string }[];
    assert.deepEqual(json.map((c) => c.id), listChecks().map((c) => c.id));
  });
});

void describe('the cra-gate executable', () => {
  void it('runs as a process and exits with the verdict', () => {
    const p = spawnSync(process.execPath, [path.join(root, 'operator', 'cli', 'main.ts'), ...all], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(p.status, 1, p.stderr);
    assert.match(p.stdout, /camera-blocked\s+Blocked/);
    assert.match(readFileSync(path.join(root, 'operator', 'cli', 'main.ts'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });
});

void describe('cra-gate evaluate: every finding says what it rests on (issue #13 item 14)', () => {
  void it('text output tags each finding with its basis; json carries basis objects and the status basis', async () => {
    const text = await cli(all);
    assert.match(text.out, /\[CRA (Art\.|Annex)[^\]]+\]/);
    const json = await cli([...all, '--output', 'json']);
    const doc = JSON.parse(json.out) as { items: { status: { checks: { id: string; basis?: string; result: string }[] }; findings?: Record<string, { basis?: { kind: string; ref: string } }[]> }[] };
    const findings = doc.items.flatMap((i) => Object.values(i.findings ?? {}).flat());
    assert.ok(findings.length > 0);
    for (const f of findings) assert.ok(f.basis && (f.basis.kind === 'cra' || f.basis.kind === 'guidance') && f.basis.ref, JSON.stringify(f));
    const checks = doc.items.flatMap((i) => i.status.checks);
    assert.ok(checks.every((c) => c.basis === 'CRA' || c.basis === 'Guidance'), JSON.stringify(checks));
  });
});
