/**
 * Operator configuration: command-line flags, each with an environment variable fallback
 * (the Helm chart sets the environment; a developer uses flags). The environment is parsed here, once; the
 * library code below main.ts receives what it needs as options (no `process.env` reads elsewhere,
 * operator/process-state.test.ts).
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { deriveMemoryBudget, parseCgroupLimit, parseMemoryQuantity, type MemoryBudget, type MemoryLimitSource } from './memory-budget.ts';
import { networkSettingsFromEnv } from './network-config.ts';
import type { NetworkSettings } from './evidence/runtime.ts';
import { WEBHOOK_FLAGS, WEBHOOK_USAGE, parseWebhookConfig, type SigningConfig, type WebhookConfig } from './webhook/options.ts';

export interface OperatorConfig {
  /** ReleasePolicy used by releases without `spec.policyRef`. */
  defaultPolicy: string;
  /** Namespace holding the leader-election Lease. */
  namespace: string;
  leaderElection: boolean;
  leaseName: string;
  identity: string;
  metricsHost: string;
  metricsPort: number;
  concurrency: number;
  /** Watch only this namespace (default: all namespaces). */
  watchNamespace?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Deadline of one reconcile (evidence collection included); past it the reconcile is cancelled and retried. */
  reconcileTimeoutMs: number;
  /** Budget of a graceful shutdown (keep it below the pod's terminationGracePeriodSeconds, default 30 s). */
  shutdownTimeoutMs: number;
  /** Admission webhook (issue 9). */
  webhook: WebhookConfig;
  /** Decision signing (issue 9). */
  signing: SigningConfig;
  /** Per-release series (cra_gate_release_*, operator/metrics-release.ts); off for very large installations. */
  perReleaseMetrics: boolean;
  /** Watch the ConfigMaps releases and policies read (needs list/watch on ConfigMaps; the chart's rbac.watchConfigMaps). */
  watchConfigMaps: boolean;
  /** Memory budgets derived from the container's memory limit (issue 16, ./memory-budget.ts). */
  memory: MemoryBudget;
  /** HTTPS and registry settings for evidence (CRA_GATE_HTTP_*, CRA_GATE_REGISTRY_*; ./network-config.ts). */
  network: Required<NetworkSettings>;
  /** Feed refresh interval and content max age (CRA_GATE_FEED_REFRESH_SECONDS, default 3600 s). */
  feedRefreshMs: number;
  /** Warning window for expiring waivers (CRA_GATE_WAIVER_WARN_DAYS, default 7). */
  waiverWarnDays: number;
}

/** Reads a file's text, or undefined when it does not exist or cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** `/a/b/c` → [`/a/b/c`, `/a/b`, `/a`, ``]: a cgroup and its ancestors (the tightest limit of them applies). */
function cgroupChain(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = parts.length; i >= 0; i--) out.push(parts.slice(0, i).map((p) => `/${p}`).join(''));
  return out;
}

/**
 * The memory limit of this process's cgroup, the tightest of its cgroup and their ancestors: cgroup v2
 * (`memory.max` under /sys/fs/cgroup) first, then cgroup v1 (`memory.limit_in_bytes` under /sys/fs/cgroup/memory).
 * `max` or a value ≥ 2^60 means no limit (undefined).
 */
export function readCgroupMemoryLimit(read: ReadText = readText, root = '/sys/fs/cgroup'): { bytes: number; source: MemoryLimitSource } | undefined {
  const self = read('/proc/self/cgroup') ?? '';
  const v2Path = /^0::(\/.*)$/m.exec(self)?.[1];
  const v1Path = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(\/.*)$/m.exec(self)?.[1];
  const tightest = (dirs: string[], file: string): number | undefined => {
    let min: number | undefined;
    for (const d of dirs) {
      const v = parseCgroupLimit(read(`${d}/${file}`));
      if (v !== undefined && (min === undefined || v < min)) min = v;
    }
    return min;
  };
  const v2 = tightest([...new Set([...cgroupChain(v2Path ?? '/').map((p) => root + p), root])], 'memory.max');
  if (v2 !== undefined) return { bytes: v2, source: 'cgroup-v2' };
  const v1Root = `${root}/memory`;
  const v1 = tightest([...new Set([...cgroupChain(v1Path ?? '/').map((p) => v1Root + p), v1Root])], 'memory.limit_in_bytes');
  if (v1 !== undefined) return { bytes: v1, source: 'cgroup-v1' };
  return undefined;
}

/**
 * The memory budget: the limit from `--memory-limit` / CRA_GATE_MEMORY_LIMIT (the chart renders the container's
 * limit there through the downward API) or the cgroup, whichever is tighter; the main heap as V8 reports it.
 */
export function memoryBudgetFrom(raw: string | undefined, read: ReadText = readText, mainHeapBytes = getHeapStatistics().heap_size_limit): MemoryBudget {
  let declared: number | undefined;
  if (raw !== undefined && raw !== '' && raw !== '0') {
    declared = parseMemoryQuantity(raw);
    if (declared === undefined) throw new Error(`invalid memory limit: ${JSON.stringify(raw)} (bytes or a quantity such as 512Mi)`);
  }
  const cgroup = readCgroupMemoryLimit(read);
  if (declared !== undefined && (cgroup === undefined || declared < cgroup.bytes)) return deriveMemoryBudget(declared, mainHeapBytes, 'declared');
  return deriveMemoryBudget(cgroup?.bytes, mainHeapBytes, cgroup?.source ?? 'none');
}

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function podNamespace(env: NodeJS.ProcessEnv): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return 'cra-gate';
  }
}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`invalid ${name}: ${JSON.stringify(raw)} (an integer from ${min} to ${max})`);
  }
  return n;
}

function bool(name: string, raw: string | undefined, def: boolean): boolean {
  if (raw === undefined || raw === '') return def;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new Error(`invalid ${name}: ${JSON.stringify(raw)} (true or false)`);
}

export const USAGE = `cra-gate operator

Flags (environment variable in brackets):
  --default-policy NAME     ReleasePolicy for releases without spec.policyRef [CRA_GATE_DEFAULT_POLICY] (cra-baseline)
  --namespace NS            namespace of the leader-election Lease [POD_NAMESPACE] (the pod's, else cra-gate)
  --leader-elect BOOL       run leader election [CRA_GATE_LEADER_ELECT] (true)
  --lease-name NAME         Lease name [CRA_GATE_LEASE_NAME] (cra-gate-operator)
  --identity ID             this replica's identity [POD_NAME] (hostname_pid)
  --metrics-bind HOST:PORT  health and metrics endpoint [CRA_GATE_METRICS_BIND] (0.0.0.0:8080)
  --concurrency N           reconciles in parallel [CRA_GATE_CONCURRENCY] (4)
  --watch-namespace NS      watch one namespace only [CRA_GATE_WATCH_NAMESPACE] (all)
  --reconcile-timeout SEC   deadline of one reconcile [CRA_GATE_RECONCILE_TIMEOUT_SECONDS] (180)
  --shutdown-timeout SEC    graceful shutdown budget, below the pod's grace period [CRA_GATE_SHUTDOWN_TIMEOUT_SECONDS] (25)
  --per-release-metrics BOOL  per-release series cra_gate_release_* [CRA_GATE_PER_RELEASE_METRICS] (true)
  --watch-configmaps BOOL   watch referenced ConfigMaps: an edited SBOM or feed re-evaluates at once [CRA_GATE_WATCH_CONFIGMAPS] (true)
  --memory-limit BYTES      the container's memory limit, when tighter than the cgroup's [CRA_GATE_MEMORY_LIMIT] (the cgroup's)
${WEBHOOK_USAGE}  LOG_LEVEL                 pino level (info)

Environment only:
  CRA_GATE_HTTP_ALLOW_HOSTS, CRA_GATE_HTTP_CA_FILE            HTTPS evidence: allow-listed host[:port], extra CA
  CRA_GATE_REGISTRY_ALLOW_HOSTS, CRA_GATE_REGISTRY_INSECURE_HOSTS, CRA_GATE_REGISTRY_CA_FILE, CRA_GATE_REGISTRY_TIMEOUT_MS
  CRA_GATE_FEED_REFRESH_SECONDS   vulnerability feed refresh (3600)
  CRA_GATE_WAIVER_WARN_DAYS       Warning Event this many days before a waiver expires (7)
`;

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'default-policy': { type: 'string' },
      namespace: { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      identity: { type: 'string' },
      'metrics-bind': { type: 'string' },
      concurrency: { type: 'string' },
      'watch-namespace': { type: 'string' },
      'reconcile-timeout': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      'per-release-metrics': { type: 'string' },
      'memory-limit': { type: 'string' },
      'watch-configmaps': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...WEBHOOK_FLAGS,
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const bind = values['metrics-bind'] ?? env.CRA_GATE_METRICS_BIND ?? '0.0.0.0:8080';
  const m = /^(.*):(\d+)$/.exec(bind);
  if (!m) throw new Error(`invalid metrics bind address ${JSON.stringify(bind)} (HOST:PORT)`);
  const watchNamespace = values['watch-namespace'] ?? env.CRA_GATE_WATCH_NAMESPACE;
  const namespace = values.namespace ?? podNamespace(env);
  return {
    defaultPolicy: values['default-policy'] ?? env.CRA_GATE_DEFAULT_POLICY ?? 'cra-baseline',
    namespace,
    leaderElection: bool('leader-elect', values['leader-elect'] ?? env.CRA_GATE_LEADER_ELECT, true),
    leaseName: values['lease-name'] ?? env.CRA_GATE_LEASE_NAME ?? 'cra-gate-operator',
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}_${process.pid}`,
    metricsHost: m[1] || '0.0.0.0',
    metricsPort: int('metrics port', m[2], 8080, 0, 65535),
    concurrency: int('concurrency', values.concurrency ?? env.CRA_GATE_CONCURRENCY, 4, 1, 64),
    ...(watchNamespace ? { watchNamespace } : {}),
    leaseDurationMs: int('CRA_GATE_LEASE_DURATION_MS', env.CRA_GATE_LEASE_DURATION_MS, 15_000, 1000, 600_000),
    renewDeadlineMs: int('CRA_GATE_RENEW_DEADLINE_MS', env.CRA_GATE_RENEW_DEADLINE_MS, 10_000, 500, 600_000),
    retryPeriodMs: int('CRA_GATE_RETRY_PERIOD_MS', env.CRA_GATE_RETRY_PERIOD_MS, 2_000, 100, 60_000),
    reconcileTimeoutMs: int('reconcile timeout', values['reconcile-timeout'] ?? env.CRA_GATE_RECONCILE_TIMEOUT_SECONDS, 180, 1, 3600) * 1000,
    shutdownTimeoutMs: int('shutdown timeout', values['shutdown-timeout'] ?? env.CRA_GATE_SHUTDOWN_TIMEOUT_SECONDS, 25, 1, 600) * 1000,
    perReleaseMetrics: bool('per-release-metrics', values['per-release-metrics'] ?? env.CRA_GATE_PER_RELEASE_METRICS, true),
    watchConfigMaps: bool('watch-configmaps', values['watch-configmaps'] ?? env.CRA_GATE_WATCH_CONFIGMAPS, true),
    memory: memoryBudgetFrom(values['memory-limit'] ?? env.CRA_GATE_MEMORY_LIMIT),
    network: networkSettingsFromEnv(env),
    feedRefreshMs: int('CRA_GATE_FEED_REFRESH_SECONDS', env.CRA_GATE_FEED_REFRESH_SECONDS, 3600, 1, 7 * 86_400) * 1000,
    waiverWarnDays: int('CRA_GATE_WAIVER_WARN_DAYS', env.CRA_GATE_WAIVER_WARN_DAYS, 7, 1, 365),
    ...parseWebhookConfig(values, env, namespace),
  };
}
