/**
 * The GitHub Action (action.yml): its steps' script, scripts/action/run.sh, runs here as GitHub would run it —
 * bash with the CRA_GATE_* inputs, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and $RUNNER_TEMP — installing the packed
 * npm package (`npm pack` of this repository) and evaluating real fixtures. The action's metadata is checked
 * against the script: every input used exists, the SARIF upload is conditional, the verdict step fails the job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../harness/fixture.ts';
import { packTarball, runProcess, type Run } from '../harness/package.ts';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface ActionYaml {
  name: string;
  inputs: Record<string, { required?: boolean; default?: string; description: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const script = path.join(repoRoot, 'scripts', 'action', 'run.sh');

function parseOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

describe('the GitHub Action', { timeout: 600_000 }, () => {
  const action = yaml.load(readFileSync(path.join(repoRoot, 'action.yml'), 'utf8')) as ActionYaml;
  let dir = '';
  let tarball = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cra-gate-action-'));
    tarball = await packTarball(dir);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One run of the script in a fresh workspace holding the CLI fixtures under release/ (and release/more/). */
  async function runAction(
    env: Record<string, string>,
    args: string[] = [],
    command: string[] = ['bash', script],
  ): Promise<Run & { outputs: Record<string, string>; summary: string; workspace: string }> {
    const workspace = mkdtempSync(path.join(dir, 'ws-'));
    mkdirSync(path.join(workspace, 'release', 'more'), { recursive: true });
    cpSync(path.join(repoRoot, 'test', 'fixtures', 'cli', 'policies.yaml'), path.join(workspace, 'policies.yaml'));
    cpSync(path.join(repoRoot, 'test', 'fixtures', 'cli', 'configmaps.yaml'), path.join(workspace, 'configmaps.yaml'));
    cpSync(path.join(repoRoot, 'test', 'fixtures', 'cli', 'releases.yaml'), path.join(workspace, 'release', 'releases.yaml'));
    cpSync(path.join(repoRoot, 'test', 'fixtures', 'cli', 'approved.yaml'), path.join(workspace, 'release', 'more', 'approved.yaml'));
    cpSync(path.join(repoRoot, 'examples', 'acme-router-2.4.0.yaml'), path.join(workspace, 'acme-router.yaml'));
    const runner = mkdtempSync(path.join(dir, 'runner-'));
    const outputs = path.join(runner, 'output');
    const summary = path.join(runner, 'summary');
    writeFileSync(outputs, '');
    writeFileSync(summary, '');
    const r = await runProcess(command[0]!, [...command.slice(1), ...args], {
      cwd: workspace,
      env: { ...process.env, GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: runner, CRA_GATE_PACKAGE: tarball, NO_COLOR: '1', CI_PROJECT_DIR: workspace, ...env },
      timeoutMs: 300_000,
    });
    return { ...r, outputs: parseOutputs(outputs), summary: readFileSync(summary, 'utf8'), workspace };
  }

  it('action.yml is a composite action whose steps run scripts/action/run.sh with every input it reads', () => {
    assert.equal(action.runs.using, 'composite');
    const gate = action.runs.steps.find((s) => s.id === 'gate')!;
    assert.match(gate.run ?? '', /scripts\/action\/run\.sh"$/);
    const used = [...JSON.stringify(action.runs.steps).matchAll(/inputs\.([a-z-]+)/g)].map((m) => m[1]!);
    for (const name of used) assert.ok(action.inputs[name], `input ${name} is declared`);
    for (const name of Object.keys(action.inputs)) assert.ok(used.includes(name), `input ${name} is used`);
    const vars = new Set([...readFileSync(script, 'utf8').matchAll(/\bCRA_GATE_[A-Z_]+/g)].map((m) => m[0]));
    const provided = new Set(action.runs.steps.flatMap((s) => Object.keys(s.env ?? {})));
    // CRA_GATE_COMMAND: set by the GitLab template only (it installs the package before running the script).
    for (const v of vars) if (v !== 'CRA_GATE_COMMAND') assert.ok(provided.has(v), `${v} is passed by action.yml`);
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))!;
    assert.ok(upload, 'a SARIF upload step');
    assert.match(upload.if ?? '', /always\(\) && inputs\.upload-sarif == 'true' && steps\.gate\.outputs\.sarif != ''/);
    assert.equal(upload.with?.sarif_file, '${{ steps.gate.outputs.sarif }}');
    const verdict = action.runs.steps.at(-1)!;
    assert.match(verdict.run ?? '', /run\.sh" --verdict$/);
    for (const o of ['exit-code', 'sarif', 'junit', 'markdown']) assert.match(action.outputs[o]!.value, new RegExp(`steps\\.gate\\.outputs\\.${o}`));
  });

  it('evaluates the files (globs, ** included) with the packed package: exit code, SARIF, JUnit, step summary', async () => {
    const r = await runAction({
      CRA_GATE_FILES: 'release/*.yaml\nrelease/**/approved.yaml',
      CRA_GATE_POLICY: 'policies.yaml',
      CRA_GATE_CONFIGMAPS: 'configmaps.yaml',
      CRA_GATE_OUTPUT: 'text',
      CRA_GATE_REPORTS: 'sarif junit markdown json',
      CRA_GATE_OUTPUT_DIR: 'reports',
    });
    assert.equal(r.code, 0, `the script itself succeeds once there is a verdict: ${r.stderr}`);
    assert.equal(r.outputs['exit-code'], '1', 'a fixture release is blocked');
    assert.equal(r.outputs.sarif, 'reports/cra-gate.sarif');
    const sarif = JSON.parse(readFileSync(path.join(r.workspace, r.outputs.sarif), 'utf8')) as { version: string; runs: { results: unknown[] }[] };
    assert.equal(sarif.version, '2.1.0');
    assert.ok(sarif.runs[0]!.results.length > 0);
    assert.match(readFileSync(path.join(r.workspace, r.outputs.junit!), 'utf8'), /<testsuites?[\s>]/);
    const json = JSON.parse(readFileSync(path.join(r.workspace, r.outputs.json!), 'utf8')) as { items: { metadata: { name: string } }[] };
    assert.equal(json.items.length, 5, 'four releases from release/*.yaml plus one from release/more/approved.yaml');
    assert.match(r.summary, /cra-gate: \d+ approved, 1 blocked/);
    assert.match(r.stdout, /→ exit 1/);
  });

  it('defaults to the baseline policy shipped in the package; --offline makes network evidence an Error (exit 2)', async () => {
    const r = await runAction({ CRA_GATE_FILES: 'acme-router.yaml', CRA_GATE_OFFLINE: 'true', CRA_GATE_REPORTS: 'sarif', CRA_GATE_OUTPUT: 'json' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs['exit-code'], '2');
    const out = JSON.parse(r.stdout) as { items: { status: { policy?: { name?: string } } }[] };
    assert.equal(out.items[0]!.status.policy?.name, 'cra-baseline');
    assert.equal(r.outputs.markdown, '');
  });

  it('fails at once on a pattern that matches nothing or an unknown report format', async () => {
    const none = await runAction({ CRA_GATE_FILES: 'release/*.yaml nothing/*.yaml', CRA_GATE_POLICY: 'policies.yaml' });
    assert.equal(none.code, 3);
    assert.match(none.stderr, /::error title=cra-gate::no file matches 'nothing\/\*\.yaml'/);
    assert.equal(none.outputs['exit-code'], undefined, 'no verdict, so no exit-code output');
    const format = await runAction({ CRA_GATE_FILES: 'release/*.yaml', CRA_GATE_POLICY: 'policies.yaml', CRA_GATE_REPORTS: 'pdf' });
    assert.equal(format.code, 3);
    assert.match(format.stderr, /unknown report format 'pdf'/);
  });

  it('the verdict step fails the job according to fail-on', async () => {
    const verdict = async (exit: string, failOn: string) =>
      (await runProcess('bash', [script, '--verdict'], { env: { ...process.env, CRA_GATE_EXIT: exit, CRA_GATE_FAIL_ON: failOn } })).code;
    assert.equal(await verdict('0', 'not-approved'), 0);
    assert.equal(await verdict('1', 'not-approved'), 1);
    assert.equal(await verdict('2', 'not-approved'), 2);
    assert.equal(await verdict('1', 'unusable'), 0);
    assert.equal(await verdict('2', 'unusable'), 2);
    assert.equal(await verdict('2', 'never'), 0);
    assert.equal(await verdict('0', 'sometimes'), 3);
  });

  it('the GitLab template runs the same steps: reports as artifacts, JUnit report, the job fails unless approved', async () => {
    const template = yaml.load(readFileSync(path.join(repoRoot, 'ci', 'gitlab', 'cra-gate.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { extends?: string; variables?: Record<string, string>; script?: string[]; artifacts?: { when: string; paths: string[]; reports: { junit: string } } }
    >;
    const job = template['.cra-gate']!;
    assert.equal(template['cra-gate']!.extends, '.cra-gate');
    assert.equal(job.artifacts!.when, 'always');
    // GitLab runs the script lines in one shell that stops at the first failing line.
    const body = ['set -eo pipefail', ...job.script!].join('\n');
    const variables = { ...job.variables!, CRA_GATE_PACKAGE: tarball, CRA_GATE_FILES: 'release/*.yaml', CRA_GATE_POLICY: 'policies.yaml', CRA_GATE_CONFIGMAPS: 'configmaps.yaml' };
    const blocked = await runAction(variables, [], ['bash', '-c', body]);
    assert.equal(blocked.code, 1, `the job fails with cra-gate's exit code 1 (blocked): ${blocked.stderr}`);
    assert.match(blocked.stderr, /not every release is approved/);
    const junit = path.join(blocked.workspace, job.artifacts!.reports.junit);
    assert.match(readFileSync(junit, 'utf8'), /<failure/);
    assert.ok(job.artifacts!.paths.every((p) => p.startsWith(job.variables!.CRA_GATE_OUTPUT_DIR!)));
    const sarif = JSON.parse(readFileSync(path.join(blocked.workspace, job.variables!.CRA_GATE_OUTPUT_DIR!, 'cra-gate.sarif'), 'utf8')) as { version: string };
    assert.equal(sarif.version, '2.1.0');
    const approved = await runAction({ ...variables, CRA_GATE_FILES: 'release/more/*.yaml' }, [], ['bash', '-c', body]);
    assert.equal(approved.code, 0, `an approved release passes the job: ${approved.stderr}`);
  });
});
