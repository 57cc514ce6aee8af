/**
 * Measurement helpers for bench/load.ts: a decision watcher (first time each release is seen with a decision
 * for its current generation), burst creation with bounded parallelism, and per-process CPU/RSS from /proc.
 */
import { readFileSync } from 'node:fs';
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { apiClient } from '../../operator/kube/pool.ts';

const GROUP = 'cra-gate.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'productreleases';

interface Obj {
  metadata: { name: string; generation?: number };
  status?: { decision?: string; observedGeneration?: number };
}

/** Watches one namespace and records when each release first shows a decision for its generation. */
export class DecisionWatcher {
  readonly decidedAt = new Map<string, number>();
  private abort: AbortController | undefined;
  /** Why the measuring watch ended (it must not, while a burst is measured). */
  private ended: string | undefined;
  private stopped = false;
  private readonly kc: KubeConfig;
  private readonly ns: string;

  constructor(kc: KubeConfig, ns: string) {
    this.kc = kc;
    this.ns = ns;
  }

  private see(o: Obj): void {
    const s = o.status;
    if (s?.decision && s.decision !== 'Pending' && s.observedGeneration === o.metadata.generation && !this.decidedAt.has(o.metadata.name)) {
      this.decidedAt.set(o.metadata.name, performance.now());
    }
  }

  async start(): Promise<void> {
    const api = apiClient(this.kc, CustomObjectsApi);
    const list = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL })) as { items: Obj[]; metadata: { resourceVersion: string } };
    for (const o of list.items) this.see(o);
    await this.watch(list.metadata.resourceVersion, 0);
  }

  /**
   * Watches from `resourceVersion`. The API server closes a watcher that falls behind (a loaded machine, a
   * burst): the watch then resumes from the last version it saw, so no decision is missed; a watch that cannot
   * resume (410 Gone, errors) ends the measurement with its cause instead of a silent timeout.
   */
  private async watch(resourceVersion: string, resumes: number): Promise<void> {
    let last = resourceVersion;
    let gone = false;
    const w = new Watch(this.kc);
    (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 3_600_000;
    this.abort = await w.watch(`/apis/${GROUP}/${VERSION}/namespaces/${this.ns}/${PLURAL}`,
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 3600 },
      (type: string, o: Obj & { code?: number }) => {
        if (type === 'ERROR') gone = o.code === 410;
        const rv = (o.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (rv && type !== 'ERROR') last = rv;
        if (type === 'ADDED' || type === 'MODIFIED') this.see(o);
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (!err && !gone && resumes < 20) {
          this.watch(last, resumes + 1).catch((e: unknown) => (this.ended = `the measuring watch could not resume: ${(e as Error).message}`));
          return;
        }
        this.ended = gone ? 'the measuring watch expired (410 Gone)' : err ? `the measuring watch failed: ${(err as Error).message}` : 'the measuring watch kept being closed by the server';
      });
  }

  /** Resolves when `n` releases are decided; rejects after `timeoutMs`. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.decidedAt.size < n) {
      if (this.ended !== undefined && !this.stopped) throw new Error(`${this.ended} after ${this.decidedAt.size} of ${n} decisions`);
      if (performance.now() > deadline) throw new Error(`only ${this.decidedAt.size} of ${n} releases decided within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}

/** Creates `docs` with `parallel` requests in flight; returns the send time (performance.now()) per name. */
export async function createBurst(kc: KubeConfig, ns: string, docs: { metadata: { name?: string } }[], parallel = 16): Promise<Map<string, number>> {
  // Pooled like the controllers under test: a TLS handshake per create would spend API-server CPU that neither
  // the floor nor the operator causes.
  const api = apiClient(kc, CustomObjectsApi);
  const sent = new Map<string, number>();
  let i = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (i < docs.length) {
      const doc = docs[i++]!;
      sent.set(doc.metadata.name!, performance.now());
      for (let attempt = 0; ; attempt++) {
        try {
          await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body: doc });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  }));
  return sent;
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user+system) of a process so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `ms` until stop(); reports the peak. */
export function rssSampler(pid: number, ms = 250): { stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // process gone
    }
  }, ms);
  return {
    stop() {
      clearInterval(t);
      try {
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        // process gone
      }
      return peak;
    },
  };
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
