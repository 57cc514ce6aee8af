/**
 * Runs the real operator (`node operator/main.ts`) as a child process against a test control plane,
 * collecting its JSON logs, and finds its health/metrics port from the log line it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StopWaiting, waitFor } from './wait.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface OperatorProcess {
  proc: ChildProcess;
  identity: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Health/metrics port once known (the server listens: it logs the port after `listen` succeeded). */
  port(): Promise<number>;
  /** Resolves once `/readyz` answers 200 (caches synced; the webhook, when enabled, is listening). */
  ready(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
  /** Sum of a metric's samples whose labels include `labels` (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM and wait for exit (bounded); returns the exit code. */
  stop(): Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  exited(): Promise<number | null>;
}

export interface OperatorOptions {
  kubeconfig: string;
  identity: string;
  namespace?: string;
  args?: string[];
  env?: Record<string, string>;
}

export function startOperator(opts: OperatorOptions): OperatorProcess {
  const args = [
    path.join(root, 'operator', 'main.ts'),
    '--metrics-bind',
    '127.0.0.1:0',
    '--namespace',
    opts.namespace ?? 'cra-gate',
    '--identity',
    opts.identity,
    ...(opts.args ?? []),
  ];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, KUBECONFIG: opts.kubeconfig, LOG_LEVEL: 'debug', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
      if (logs.length > 20_000) logs.splice(0, 10_000);
    }
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  live.add(proc);
  const exit = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  if (process.env.CRA_GATE_TEST_VERBOSE) proc.stdout.pipe(process.stderr);

  let portValue: number | undefined;
  const port = async (): Promise<number> => {
    if (portValue) return portValue;
    portValue = await waitFor(
      `operator ${opts.identity} to report its metrics port`,
      () => {
        if (proc.exitCode !== null) throw new Error(`operator exited with ${proc.exitCode}: ${stderr}`);
        const l = logs.find((x) => typeof x.port === 'number' && String(x.msg).includes('listening'));
        return Promise.resolve(l ? (l.port as number) : undefined);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return portValue;
  };
  const metrics = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${await port()}/metrics`);
    return res.text();
  };
  const ready = async (timeoutMs = 60_000): Promise<void> => {
    const p = await port();
    await waitFor(
      `operator ${opts.identity} to report ready (/readyz)`,
      async () => {
        if (proc.exitCode !== null) throw new StopWaiting(`operator exited with ${proc.exitCode}: ${stderr}`);
        const res = await fetch(`http://127.0.0.1:${p}/readyz`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
  };
  return {
    proc,
    identity: opts.identity,
    logs,
    port,
    ready,
    metrics,
    async metric(name, labels = {}) {
      const text = await metrics();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const lbl = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
    kill(signal) {
      proc.kill(signal);
    },
    exited: () => exit,
  };
}
