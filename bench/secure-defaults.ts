/**
 * Benchmark: config.secure-defaults over 1,000 Kubernetes objects (a mix of Deployments, StatefulSets,
 * CronJobs, Pods, Services, ConfigMaps, Secrets and Roles, half hardened, half with typical defaults) plus a
 * settings file, with the built-in rules. Measures parse (js-yaml + bounded copy) and the check itself
 * (PSS, hardening, credentials, JSON Schema rules): wall time (median of runs) and memory (heap growth and
 * peak RSS). Writes its section of docs/benchmarks.md.
 *
 *   node bench/secure-defaults.ts            (or: npm run bench secure-defaults)
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import yaml from 'js-yaml';
import { configSecureDefaults } from '../operator/checks/config.ts';
import { loadBuiltinRules } from '../operator/evidence/secure-defaults.ts';
import { parseManifests, parseSettings } from '../operator/secure-defaults/parse.ts';
import type { CheckContext } from '../operator/checks/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OBJECTS = 1_000;
const RUNS = 7;

function workload(i: number, hardened: boolean): Record<string, unknown> {
  const kinds = ['Deployment', 'StatefulSet', 'CronJob', 'Pod'] as const;
  const kind = kinds[i % kinds.length]!;
  const spec = {
    ...(hardened ? { automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } } : {}),
    containers: [{
      name: 'app',
      image: `registry.example/app-${i}@sha256:${'ab'.repeat(32)}`,
      ports: [{ containerPort: 8080 }],
      env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'DB_PASSWORD', value: hardened ? '$(DB_PASSWORD)' : 'changeme' }],
      securityContext: hardened ? { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } : { privileged: i % 8 === 1 },
      resources: hardened ? { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } : {},
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    }],
    volumes: [{ name: 'tmp', emptyDir: {} }, ...(hardened ? [] : [{ name: 'host', hostPath: { path: '/var/run' } }])],
  };
  const meta = { name: `app-${i}`, labels: { app: `app-${i}` } };
  const template = { metadata: { labels: meta.labels }, spec };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: meta, spec };
    case 'CronJob':
      return { apiVersion: 'batch/v1', kind, metadata: meta, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...spec, restartPolicy: 'OnFailure' } } } } } };
    default:
      return { apiVersion: 'apps/v1', kind, metadata: meta, spec: { selector: { matchLabels: meta.labels }, template } };
  }
}

function other(i: number, hardened: boolean): Record<string, unknown> {
  const meta = { name: `obj-${i}` };
  switch (i % 4) {
    case 0:
      return { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { type: hardened ? 'ClusterIP' : 'NodePort', ports: [{ port: 80 }] } };
    case 1:
      return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { LOG_LEVEL: 'info', URL: 'https://api.example/v1', CHECKSUM: 'f'.repeat(64), ...(hardened ? {} : { SESSION_SECRET: 'q8Zr2LmX7vKp4TnW9sYb3HcJ6fDg1QeA' }) } };
    case 2:
      return { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { username: 'app', password: hardened ? '' : 'admin' } };
    default:
      return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta, rules: [{ apiGroups: [''], resources: hardened ? ['configmaps'] : ['*'], verbs: ['get', 'list'] }] };
  }
}

const objects = Array.from({ length: OBJECTS }, (_, i) => (i % 2 === 0 ? workload(i, i % 4 === 0) : other(i, i % 3 === 0)));
const text = objects.map((o) => yaml.dump(o)).join('---\n');
const settingsText = yaml.dump({ server: { tls: { enabled: true } }, auth: { enabled: true }, debug: false, telemetry: { enabled: false }, log: { level: 'info' } });
const rules = await loadBuiltinRules();
const release = {
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ProductRelease',
  metadata: { name: 'bench', namespace: 'bench' },
  spec: { product: { name: 'bench' }, version: '1.0.0', secureDefaults: { manifests: { configMapRef: { name: 'm' } }, settings: { configMapRef: { name: 's' } } } },
} as CheckContext['release'];

function once(): { parseMs: number; checkMs: number; findings: number; result: string } {
  const t0 = performance.now();
  const documents = parseManifests([{ name: 'manifests.yaml', text }]);
  const settings = [parseSettings({ name: 'settings.yaml', text: settingsText })];
  const t1 = performance.now();
  const out = configSecureDefaults.run({
    release,
    params: {},
    now: new Date(),
    evidence: { secureDefaults: { declared: { manifests: true, settings: true }, manifests: { documents, digest: 'sha256:x' }, settings: { files: settings, digest: 'sha256:y' }, rules } },
  });
  const t2 = performance.now();
  return { parseMs: t1 - t0, checkMs: t2 - t1, findings: Number(/^(\d+) finding/.exec(out.message)?.[1] ?? 0), result: out.result };
}

once(); // warm-up (JIT, ajv compilation cache)
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const runs = Array.from({ length: RUNS }, once);
const heapAfter = process.memoryUsage().heapUsed;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const parseMs = median(runs.map((r) => r.parseMs));
const checkMs = median(runs.map((r) => r.checkMs));
const rssMiB = process.resourceUsage().maxRSS / 1024;
const cpu = cpus()[0]?.model ?? 'unknown';
const machine = `${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`;

const section = `<!-- bench:secure-defaults -->
## config.secure-defaults over ${OBJECTS} objects

\`node bench/secure-defaults.ts\` — ${OBJECTS} Kubernetes objects (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB of YAML: Deployments, StatefulSets, CronJobs, Pods, Services, ConfigMaps, Secrets, Roles; half hardened) plus a settings file, the 4 built-in JSON Schema rules; median of ${RUNS} runs after a warm-up.

| step | wall time (median) |
|---|---|
| parse (js-yaml, bounded copy) | ${parseMs.toFixed(1)} ms |
| check (PSS restricted, hardening, credentials, rules) | ${checkMs.toFixed(1)} ms |
| total | ${(parseMs + checkMs).toFixed(1)} ms |

Findings per run: ${runs[0]!.findings} (the first 1,000 are returned; result ${runs[0]!.result}). Memory: peak RSS ${rssMiB.toFixed(0)} MiB for the whole benchmark process; heap growth over ${RUNS} runs ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB (garbage not yet collected included).

Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:secure-defaults -->`;

const file = path.join(root, 'docs', 'benchmarks.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nEach section is written by its script under bench/ (`npm run bench`).\n';
const re = /<!-- bench:secure-defaults -->[\s\S]*?<!-- \/bench:secure-defaults -->/;
writeFileSync(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
