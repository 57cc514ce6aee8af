/**
 * Metrics, the Grafana dashboard and the alert rules against real components:
 *  - promtool checks the rule file and runs its unit tests (every alert shown to fire, with synthetic series
 *    named and labelled as the operator emits them);
 *  - the dashboard keeps the rules of Grafana's dashboard-linter (and passes the real linter in strict mode
 *    when its binary is in the tool cache);
 *  - a real Prometheus scrapes the running operator through a scenario (no leader, approve, block, failing
 *    status writes, an actively exploited vulnerability, a waiver, two leaders, operator down), and every
 *    dashboard query returns data through Prometheus's HTTP API — except the admission panels (the webhook is
 *    off in this scenario; webhook.test.ts covers its metrics), whose queries must still evaluate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { baselinePolicy, compliantRelease, repoRoot, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { startPrometheus, type Prometheus } from '../harness/prometheus.ts';
import { toolsBin } from '../harness/controlplane.ts';
import { waitFor } from '../harness/wait.ts';
import { daysFromNow, FREEZE_LABEL, freezeStatusPolicy, log4jSbom, log4shellFeeds, WAIVER_POLICY, waiverPolicy } from '../fixtures/metrics-scenario.ts';

const RULES = path.join(repoRoot, 'charts', 'cra-gate', 'files', 'cra-gate.rules.yaml');
const RULE_TESTS = path.join(repoRoot, 'alerts', 'cra-gate.test.yaml');
const DASHBOARD = path.join(repoRoot, 'charts', 'cra-gate', 'dashboards', 'cra-gate.json');
const COMPLIANCE_DASHBOARD = path.join(repoRoot, 'charts', 'cra-gate', 'dashboards', 'cra-compliance.json');


/** Metrics only the admission webhook emits (off in this scenario; see docs/operations.md#metrics). */
const WEBHOOK_ONLY = ['cra_gate_admission_reviews_total', 'cra_gate_admission_violations_total', 'cra_gate_admission_duration_seconds'];

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: repoRoot, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
function loadRules(): Rule[] {
  const doc = yaml.load(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  editable: boolean;
  panels: Panel[];
  templating: { list: { name: string; label: string; type: string; query: unknown; datasource?: { uid?: string }; multi?: boolean; allValue?: string; refresh?: number }[] };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const compliance = JSON.parse(readFileSync(COMPLIANCE_DASHBOARD, 'utf8')) as Dashboard;
const DASHBOARDS: [string, Dashboard][] = [
  [DASHBOARD, dashboard],
  [COMPLIANCE_DASHBOARD, compliance],
];
const panelsOf = (d: Dashboard) => d.panels.filter((p) => p.type !== 'row');
const queryPanels = panelsOf(dashboard);

/** A dashboard query as Grafana sends it for "All" of job/instance and a 1 s scrape interval. */
function concrete(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', 'cra-gate').replaceAll('$instance', '.+').replaceAll('$namespace', '.+').replaceAll('$product', '.+');
}

describe('alert rules (promtool)', () => {
  it('promtool check rules accepts the rule file', async () => {
    const r = await run('promtool', ['check', 'rules', RULES]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert is shown to fire', async () => {
    const r = await run('promtool', ['test', 'rules', RULE_TESTS]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    const tests = yaml.load(readFileSync(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const firing = new Set(tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    for (const rule of loadRules()) if (rule.alert) assert.ok(firing.has(rule.alert), `${rule.alert} has a promtool test in which it fires`);
  });

  it('the issue’s alerts exist, each with severity, summary, description and runbook', () => {
    const doc = yaml.load(readFileSync(RULES, 'utf8')) as { groups: { rules: (Rule & { labels?: Record<string, string>; annotations?: Record<string, string> })[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    for (const a of ['CraGateReleaseBlocked', 'CraGateExploitedVulnerability', 'CraGateArt14DeadlineApproaching', 'CraGateArt14DeadlineOverdue', 'CraGateWaiverExpiring', 'CraGateOperatorDown', 'CraGateNoLeader', 'CraGateReconcileErrors']) {
      assert.ok(names.includes(a), a);
    }
    for (const r of rules) {
      assert.match(r.labels?.severity ?? '', /^(critical|warning|info)$/, `${r.alert} severity`);
      for (const k of ['summary', 'description', 'runbook_url']) assert.ok(r.annotations?.[k], `${r.alert} annotation ${k}`);
    }
  });
});

for (const [file, dashboard] of DASHBOARDS) {
 describe(`Grafana dashboard ${path.basename(file)}`, () => {
  const queryPanels = panelsOf(dashboard);
  it('has a fixed uid, a datasource variable and job/instance variables as dashboard-linter requires', () => {
    assert.equal(dashboard.uid, path.basename(file, '.json'));
    assert.equal(dashboard.editable, false);
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const ds = vars.get('datasource');
    assert.equal(ds?.type, 'datasource');
    assert.equal(ds?.query, 'prometheus');
    assert.equal(ds?.label, 'Data source');
    for (const [name, label] of [['job', 'Job'], ['instance', 'Instance']] as const) {
      const v = vars.get(name);
      assert.equal(v?.type, 'query', name);
      assert.match(v?.datasource?.uid ?? '', /^\$\{?datasource\}?$/, `${name} uses $datasource`);
      assert.equal(v?.label, label);
      assert.equal(v?.multi, true);
      assert.equal(v?.allValue, '.+');
    }
    for (const v of dashboard.templating.list) if (v.type === 'query') assert.equal(v.refresh, 2, `${v.name} reloads on time range change`);
  });

  it('every panel: title, description, templated datasource, a valid unit, targets; every query: job/instance matchers, $__rate_interval, counters only in rate()', () => {
    const units = new Set(['none', 'short', 'percent', 'percentunit', 's', 'ms', 'ops', 'bytes', 'bool', 'dateTimeAsIso', 'dtdurations']);
    const titles = new Set<string>();
    for (const p of queryPanels) {
      const where = `panel ${p.id} ${p.title ?? ''}`;
      assert.ok(p.title && p.description, `${where}: title and description`);
      assert.ok(!titles.has(p.title), `${where}: unique title`);
      titles.add(p.title);
      assert.match(p.datasource?.uid ?? '', /^\$\{?datasource\}?$/, `${where}: templated datasource`);
      assert.ok(units.has(p.fieldConfig?.defaults?.unit ?? ''), `${where}: unit ${p.fieldConfig?.defaults?.unit}`);
      assert.ok((p.targets ?? []).length > 0, `${where}: targets`);
      for (const t of p.targets ?? []) {
        const selectors = [...t.expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)];
        assert.ok(selectors.length > 0, `${where}: selectors in ${t.expr}`);
        for (const s of selectors) {
          assert.match(s[2]!, /job=~"\$job"/, `${where}: ${s[1]} has job=~"$job"`);
          assert.match(s[2]!, /instance=~"\$instance"/, `${where}: ${s[1]} has instance=~"$instance"`);
        }
        // No selector without braces (it would lack the matchers).
        const bare = t.expr.replace(/"[^"]*"/g, '""').match(/\b(cra_gate_\w+|process_\w+|up)\b(?!\{)/g);
        assert.equal(bare, null, `${where}: bare metric names ${String(bare)}`);
        for (const m of t.expr.matchAll(/\[([^\]]+)\]/g)) assert.equal(m[1], '$__rate_interval', `${where}: range ${m[1]}`);
        for (const m of t.expr.matchAll(/(\w+)\(\s*(\w+_total)\{/g)) assert.match(m[1]!, /^(rate|irate|increase)$/, `${where}: counter ${m[2]} in ${m[1]}()`);
      }
    }
  });

  it('has the panels the issue asks for', () => {
    if (dashboard.uid === 'cra-compliance') {
      const titles = queryPanels.map((p) => p.title ?? '');
      for (const t of ['Releases by decision per namespace and product', 'Blocked releases and failing checks', 'Support ending within 90 days', 'Support ending within 180 days', 'Support ending within 365 days', 'Support periods ending in the next 365 days', 'Known-exploited exposure per product', 'Waivers expiring per release']) {
        assert.ok(titles.includes(t), t);
      }
      const blocked = queryPanels.find((p) => p.title === 'Blocked releases and failing checks')!;
      assert.match(blocked.targets![0]!.expr, /cra_gate_release_check_failed/);
      return;
    }
    const titles = queryPanels.map((p) => p.title ?? '');
    for (const t of ['Decisions over time', 'Releases blocked', 'Failing checks by id', 'Evaluation latency p50 / p99', 'Open Art. 14 entries', 'Art. 14 entries by deadline state', 'Waivers expiring', 'Next Art. 14 deadlines', 'Reconcile errors by reason', 'Work-queue depth', 'Leader', 'Admission reviews by outcome', 'Admission violations by reason', 'Admission latency p50 / p99']) {
      assert.ok(titles.includes(t), t);
    }
  });

  it('passes Grafana dashboard-linter in strict mode (when built into the tool cache)', async (t) => {
    const linter = path.join(toolsBin(), 'dashboard-linter');
    if (!existsSync(linter)) {
      t.skip('dashboard-linter not in .cache/tools/bin (the Go module proxy does not serve it here); its rules are checked above');
      return;
    }
    const r = await run(linter, ['lint', '--strict', file]);
    assert.equal(r.code, 0, r.out);
  });
});
}

describe('Prometheus scrapes the operator', () => {
  let cluster: Cluster;
  let prom: Prometheus;
  let opA: OperatorProcess | undefined;
  let opB: OperatorProcess | undefined;

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    // Another identity holds the Lease for a few seconds: the operator starts without leadership.
    const now = new Date().toISOString().replace(/\.\d+Z$/, '.000000Z');
    await cluster.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'cra-gate-operator', namespace: 'cra-gate' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 12, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    });
    // Lease timings long enough to ride out the kube-apiserver restart below (a leader that cannot renew in
    // time exits by design).
    opA = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'op-a',
      env: { CRA_GATE_LEASE_DURATION_MS: '90000', CRA_GATE_RENEW_DEADLINE_MS: '75000', CRA_GATE_RETRY_PERIOD_MS: '2000' },
    });
    prom = await startPrometheus({ targets: [`127.0.0.1:${await opA.port()}`], ruleFiles: [RULES] });
  });

  after(async () => {
    await opB?.stop();
    await opA?.stop();
    await prom?.stop();
    await cluster?.stop();
  });

  const returns = (expr: string, what: string, timeoutMs = 60_000) =>
    waitFor(what, async () => {
      const r = await prom.query(expr);
      return r.length > 0 ? r : undefined;
    }, { timeoutMs, intervalMs: 500 });

  const alertExpr = (name: string): string => {
    const r = loadRules().find((x) => x.alert === name);
    assert.ok(r, name);
    return r.expr;
  };

  it('CraGateNoLeader’s expression returns data while another identity holds the Lease', async () => {
    const r = await returns(alertExpr('CraGateNoLeader'), 'the no-leader expression to return data');
    assert.equal(r[0]!.value[1], '0');
    await returns('max(cra_gate_leader{job="cra-gate"}) == 1', 'the operator to take the Lease over', 60_000);
  });

  it('every dashboard query and alert expression over emitted metrics returns data during a scenario', async () => {
    const ns = await cluster.namespace('prom');
    await cluster.apply(compliantRelease(ns, 'router-2-4-0'));
    await cluster.apply(compliantRelease(ns, 'camera-1-0-0', { spec: { updates: { channel: 'https://vendor.example/fw.json', automatic: true, supportEnd: '2029-01' } } }));
    assert.equal((await waitForDecision(cluster, ns, 'router-2-4-0')).status?.decision, 'Approved');
    assert.equal((await waitForDecision(cluster, ns, 'camera-1-0-0')).status?.decision, 'Blocked');

    // An actively exploited vulnerability (Log4Shell in the KEV feed) affecting a release starts the Art. 14
    // clock (cra_gate_exploited_vulnerabilities, cra_gate_art14_next_deadline_timestamp_seconds); the policy's
    // waiver, expiring in 3 days, feeds cra_gate_waiver_expiry_timestamp_seconds and CraGateWaiverExpiring; the
    // logger release's check is Waived (cra_gate_release_waiver_expiry_timestamp_seconds). Shared with the
    // end-to-end suite: test/fixtures/metrics-scenario.ts.
    for (const feed of log4shellFeeds()) await cluster.apply(feed);
    await cluster.apply(waiverPolicy(daysFromNow(3)));
    await cluster.apply(log4jSbom(ns));
    await cluster.apply(compliantRelease(ns, 'logger-1-0-0', { spec: { policyRef: WAIVER_POLICY, sboms: [{ artifact: 'router', configMapRef: { name: 'sbom-log4j', key: 'bom.json' } }] } }));
    const logger = await waitForDecision(cluster, ns, 'logger-1-0-0', (r) => (r.status?.exploited ?? []).length > 0, 90_000);
    assert.equal(logger.status?.decision, 'Blocked');
    assert.ok(logger.status?.checks?.some((c) => c.id === 'vuln.no-known-exploitable' && c.result === 'Waived' && (c.waivers ?? []).length > 0), JSON.stringify(logger.status?.checks));
    // A release whose support period ends within 90 days (the compliance dashboard's support panels).
    await cluster.apply(compliantRelease(ns, 'old-gateway-1-0-0', { spec: { updates: { channel: 'https://vendor.example/fw.json', automatic: true, supportEnd: daysFromNow(30) } } }));
    assert.equal((await waitForDecision(cluster, ns, 'old-gateway-1-0-0')).status?.decision, 'Blocked');

    // Failing status writes (a ValidatingAdmissionPolicy freezes them in one namespace) make reconcile errors.
    const frozen = await cluster.namespace('frozen');
    await cluster.kubectl(['label', 'namespace', frozen, `${FREEZE_LABEL}=true`]);
    for (const o of freezeStatusPolicy()) await cluster.apply(o);
    // The policy is enforced once the apiserver has loaded it: retry the release until a write is refused.
    await waitFor('a refused status write to count as a reconcile error', async () => {
      await cluster.kubectl(['delete', 'productrelease', '-n', frozen, '--all', '--wait=false']);
      await cluster.apply(compliantRelease(frozen, `frozen-${Date.now()}`));
      return (await opA!.metric('cra_gate_reconcile_errors_total')) > 0 || undefined;
    }, { timeoutMs: 60_000, intervalMs: 3000 });

    // A kube-apiserver restart breaks the watches: the operator re-establishes them (cra_gate_watch_restarts_total).
    await cluster.cp.restartApiServer();
    await waitFor('a counted watch restart', async () => (await opA!.metric('cra_gate_watch_restarts_total')) > 0 || undefined, { timeoutMs: 60_000 });

    const missing: string[] = [];
    for (const p of [...queryPanels, ...panelsOf(compliance)]) {
      for (const t of p.targets ?? []) {
        const expr = concrete(t.expr);
        if (WEBHOOK_ONLY.some((m) => expr.includes(m))) {
          // The webhook is off here: the query must be valid PromQL (Prometheus evaluates it); no data.
          await prom.query(expr);
          continue;
        }
        try {
          await returns(expr, `panel "${p.title}" ${t.refId}`, 45_000);
        } catch {
          missing.push(`${p.title} ${t.refId}: ${expr}`);
        }
      }
    }
    assert.deepEqual(missing, [], 'dashboard queries without data');

    for (const name of ['CraGateReleaseBlocked', 'CraGateReconcileErrors', 'CraGateExploitedVulnerability', 'CraGateWaiverExpiring']) {
      const r = await returns(alertExpr(name), `${name}'s expression to return data`);
      assert.ok(Number(r[0]!.value[1]) > 0);
    }
    // Prometheus loaded the rule file and the alerts are pending (their `for` has not elapsed).
    const rules = await prom.api<{ groups: { rules: { name: string; health: string; type: string }[] }[] }>('/api/v1/rules');
    const loaded = rules.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, loadRules().length);
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name} evaluates`);
    const alerts = await waitFor('pending alerts', async () => {
      const a = await prom.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts');
      const names = new Set(a.alerts.map((x) => x.labels.alertname));
      return ['CraGateReleaseBlocked', 'CraGateReconcileErrors', 'CraGateExploitedVulnerability', 'CraGateWaiverExpiring'].every((n) => names.has(n)) ? a.alerts : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(alerts.every((a) => a.state === 'pending' || a.state === 'firing'));
    // The Art. 14 deadlines are 24 h / 72 h away and none is overdue: those alerts' metrics have data, their
    // expressions are empty (shown to fire in the promtool tests).
    const next = await returns('cra_gate_art14_next_deadline_timestamp_seconds{job="cra-gate"} - time()', 'the next Art. 14 deadlines');
    assert.deepEqual(next.map((x) => x.metric.deadline).sort(), ['early_warning', 'notification']);
    assert.ok(next.every((x) => Number(x.value[1]) > 20 * 3600), JSON.stringify(next));
    for (const name of ['CraGateArt14DeadlineApproaching', 'CraGateArt14DeadlineOverdue']) assert.deepEqual(await prom.query(alertExpr(name)), [], name);
  });

  it('CraGateMultipleLeaders’ expression returns data when a second replica runs without leader election', async () => {
    opB = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-b', args: ['--leader-elect', 'false'] });
    await prom.setTargets([`127.0.0.1:${await opA!.port()}`, `127.0.0.1:${await opB.port()}`]);
    const r = await returns(alertExpr('CraGateMultipleLeaders'), 'two leaders');
    assert.equal(r[0]!.value[1], '2');
    assert.equal(await opB.stop(), 0);
    opB = undefined;
  });

  it('CraGateOperatorDown’s expression returns data once no replica answers', async () => {
    assert.equal(await opA!.stop(), 0);
    opA = undefined;
    assert.deepEqual(await prom.query('absent(up{job="nonexistent"} == 1)').then((r) => r.length), 1);
    await returns(alertExpr('CraGateOperatorDown'), 'the operator-down expression', 30_000);
  });
});
