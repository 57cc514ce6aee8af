/**
 * A real Prometheus (Debian's `prometheus`, installed by test/tools/install-system.sh) on loopback for tests:
 * scrapes the given targets every second as job "cra-gate" (what the dashboard and the alert rules select) — or
 * runs the given scrape configs (e.g. service discovery: test/harness/kubernetes-http-sd.ts) —, evaluates the
 * given rule files every second, and answers PromQL through its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { waitFor } from './wait.ts';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  url: string;
  /** Instant query; throws on a PromQL error (with Prometheus's message). */
  query(expr: string): Promise<PromSample[]>;
  /** Raw JSON of a GET on the API path (e.g. `/api/v1/rules`). */
  api<T = unknown>(pathAndQuery: string): Promise<T>;
  /** Replaces the scrape targets (config reload through SIGHUP). */
  setTargets(targets: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Static targets of job `job`; or `scrapeConfigs`. */
  targets?: string[];
  /** Whole `scrape_configs` entries instead of static targets. */
  scrapeConfigs?: Record<string, unknown>[];
  job?: string;
  ruleFiles?: string[];
  scrapeInterval?: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function prometheusBinary(): string {
  const p = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((x) => existsSync(x));
  if (!p) throw new Error('prometheus is not installed: run `bash test/tools/install-system.sh` (Debian prometheus)');
  return p;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<Prometheus> {
  const bin = prometheusBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cra-gate-prom-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = path.join(dir, 'prometheus.yml');
  const interval = opts.scrapeInterval ?? '1s';
  const writeConfig = async (targets: string[]): Promise<void> => {
    const config = {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: opts.scrapeConfigs ?? [{ job_name: opts.job ?? 'cra-gate', static_configs: [{ targets }] }],
    };
    await writeFile(configFile, yaml.dump(config));
  };
  if (!opts.targets === !opts.scrapeConfigs) throw new Error('startPrometheus: give either targets or scrapeConfigs');
  await writeConfig(opts.targets ?? []);
  const logFile = path.join(dir, 'prometheus.log');
  const fd = openSync(logFile, 'a');
  const proc = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--web.console.templates=/nonexistent',
      '--web.console.libraries=/nonexistent',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  live.add(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const logTail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    live.delete(proc);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('prometheus to be ready', async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${logTail()}`);
      try {
        return (await fetch(`${url}/-/ready`)).ok || undefined;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 60_000, intervalMs: 200 });
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${url}${p}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSample[] | [number, string] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      return data.result as PromSample[];
    },
    async setTargets(targets) {
      if (opts.scrapeConfigs) throw new Error('setTargets: this Prometheus discovers its targets');
      await writeConfig(targets);
      proc.kill('SIGHUP');
    },
    stop,
  };
}
