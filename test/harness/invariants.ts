/**
 * Invariant recorder for fault and hostile-input suites: an independent list+watch (its own client, not the
 * operator's) on ProductReleases that records every status transition it observes, with the generation the
 * object had at that moment, and checks the safety promises over the whole run:
 *
 *  - never Approved while a Block-enforced check in that status failed or errored;
 *  - never Approved for the current generation when the spec of that generation should be blocked (the
 *    caller's `expected` function says what each spec should get);
 *  - the Approved condition agrees with `status.decision`;
 *  - observedGeneration of one object never goes backwards (no stale write overwrote a newer status).
 *
 * It survives apiserver restarts/stalls by re-listing with a short bounded pause between attempts, and stops
 * by itself on stop(). Also: Event counting per release (events.k8s.io) and settle-waiting helpers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CustomObjectsApi, EventsV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION, PRODUCT_RELEASE_PLURAL, type ProductRelease } from '../../operator/api/types.ts';
import { waitFor } from './wait.ts';

export type Decision = 'Pending' | 'Approved' | 'Blocked';

export interface Transition {
  /** Date.now() when observed. */
  at: number;
  key: string;
  uid: string;
  generation: number | undefined;
  observedGeneration: number | undefined;
  decision: string | undefined;
  approvedCondition: string | undefined;
  checks: { id: string; result: string; enforcement: string }[];
  /** What the caller's `expected` said for the spec of `generation`. */
  expected: Decision | undefined;
}

export interface RecorderOptions {
  /** Only this namespace (default: all). */
  namespace?: string;
  /** The decision a spec should get (undefined: no expectation for this object). */
  expected?: (r: ProductRelease) => Decision | undefined;
}

const key = (r: ProductRelease): string => `${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`;

function fingerprint(t: Transition): string {
  return JSON.stringify([t.generation, t.observedGeneration, t.decision, t.approvedCondition, t.checks]);
}

export class StatusRecorder {
  readonly transitions: Transition[] = [];
  /** Latest object seen per key (deleted keys removed). */
  readonly latest = new Map<string, ProductRelease>();
  /** Number of (re)lists and watch restarts the recorder itself needed. */
  relists = 0;
  private readonly last = new Map<string, string>();
  private readonly opts: RecorderOptions;
  private readonly kc: KubeConfig;
  private readonly api: CustomObjectsApi;
  private abort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private synced!: () => void;
  private readonly firstSync = new Promise<void>((r) => (this.synced = r));

  constructor(kc: KubeConfig, opts: RecorderOptions = {}) {
    this.kc = kc;
    this.opts = opts;
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  /** Starts recording; resolves after the first list. */
  async start(): Promise<void> {
    this.loop = this.run();
    await waitFor('the status recorder to list', async () => {
      await Promise.race([this.firstSync, new Promise((r) => setTimeout(r, 200))]);
      return this.relists > 0;
    }, { timeoutMs: 30_000 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 5_000))]);
  }

  private observe(r: ProductRelease): void {
    const k = key(r);
    this.latest.set(k, r);
    const s = r.status;
    if (!s) return;
    const t: Transition = {
      at: Date.now(),
      key: k,
      uid: r.metadata.uid ?? '',
      generation: r.metadata.generation,
      observedGeneration: s.observedGeneration,
      decision: s.decision,
      approvedCondition: s.conditions?.find((c) => c.type === 'Approved')?.status,
      checks: (s.checks ?? []).map((c) => ({ id: c.id, result: c.result, enforcement: c.enforcement })),
      expected: this.opts.expected?.(r),
    };
    const fp = fingerprint(t);
    if (this.last.get(k) === fp) return;
    this.last.set(k, fp);
    this.transitions.push(t);
  }

  private async run(): Promise<void> {
    const ns = this.opts.namespace;
    const path = ns
      ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PRODUCT_RELEASE_PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PRODUCT_RELEASE_PLURAL}`;
    while (!this.stopped) {
      try {
        const list = (ns
          ? await this.api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PRODUCT_RELEASE_PLURAL })
          : await this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PRODUCT_RELEASE_PLURAL })) as {
          items: ProductRelease[];
          metadata: { resourceVersion: string };
        };
        const seen = new Set<string>();
        for (const r of list.items) {
          seen.add(key(r));
          this.observe(r);
        }
        for (const k of [...this.latest.keys()]) if (!seen.has(k)) this.latest.delete(k);
        this.relists++;
        this.synced();
        if (this.stopped) return;
        await new Promise<void>((resolve) => {
          const watch = new Watch(this.kc);
          (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 600_000;
          watch
            .watch(
              path,
              { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
              (type: string, obj: ProductRelease) => {
                if (type === 'ADDED' || type === 'MODIFIED') this.observe(obj);
                else if (type === 'DELETED') this.latest.delete(key(obj));
                else if (type === 'ERROR') resolve();
              },
              () => resolve(),
            )
            .then((a) => {
              this.abort = a;
              if (this.stopped) a.abort();
            })
            .catch(() => resolve());
        });
      } catch {
        // apiserver down or stalled: re-list after a short pause (bounded by stop())
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 300));
    }
  }

  /**
   * Safety violations over every observed status so far (empty when the promises held). Each entry names
   * the release and what was seen.
   */
  violations(): string[] {
    const out: string[] = [];
    const lastObserved = new Map<string, number>();
    for (const t of this.transitions) {
      const blocking = t.checks.filter((c) => c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error'));
      if (t.decision === 'Approved' && blocking.length > 0) {
        out.push(`${t.key} observed Approved with failing blocking checks ${blocking.map((c) => `${c.id}=${c.result}`).join(', ')} (generation ${t.generation}, observed ${t.observedGeneration})`);
      }
      if (t.decision === 'Approved' && t.observedGeneration === t.generation && t.expected && t.expected !== 'Approved') {
        out.push(`${t.key} observed Approved for generation ${t.generation} whose spec should be ${t.expected}`);
      }
      if (t.decision !== undefined && (t.approvedCondition === 'True') !== (t.decision === 'Approved')) {
        out.push(`${t.key} decision ${t.decision} but Approved condition ${t.approvedCondition}`);
      }
      const prev = lastObserved.get(t.uid);
      if (prev !== undefined && t.observedGeneration !== undefined && t.observedGeneration < prev) {
        out.push(`${t.key} observedGeneration went back from ${prev} to ${t.observedGeneration} (a stale status overwrote a newer one)`);
      }
      if (t.observedGeneration !== undefined) lastObserved.set(t.uid, Math.max(prev ?? 0, t.observedGeneration));
    }
    return out;
  }

  /** Releases (in `keys`, or all) whose latest status is not the expected decision for the current generation. */
  unsettled(keys?: Iterable<string>): string[] {
    const expected = this.opts.expected;
    const out: string[] = [];
    const want = keys ? [...keys] : [...this.latest.keys()];
    for (const k of want) {
      const r = this.latest.get(k);
      if (!r) {
        out.push(`${k}: missing`);
        continue;
      }
      const e = expected?.(r);
      const s = r.status;
      if (s?.observedGeneration !== r.metadata.generation || !s?.decision || (e && s.decision !== e)) {
        out.push(`${k}: generation ${r.metadata.generation}, observed ${s?.observedGeneration}, decision ${s?.decision}, expected ${e}`);
      }
    }
    return out;
  }

  /** Waits (bounded) until every release in `keys` has its expected decision for its current generation. */
  async waitSettled(keys: Iterable<string>, timeoutMs: number, what = 'releases'): Promise<void> {
    const list = [...keys];
    await waitFor(`${list.length} ${what} to reach their expected decisions`, () => {
      const bad = this.unsettled(list);
      if (bad.length === 0) return Promise.resolve(true);
      throw new Error(`${bad.length} unsettled, e.g. ${bad.slice(0, 3).join('; ')}`);
    }, { timeoutMs, intervalMs: 200 });
  }

  /** Distinct decisions observed per key, in order (a verdict-change history). */
  decisionHistory(k: string): string[] {
    const out: string[] = [];
    for (const t of this.transitions) {
      if (t.key !== k || !t.decision) continue;
      if (out[out.length - 1] !== t.decision) out.push(t.decision);
    }
    return out;
  }
}

/** Events (events.k8s.io/v1) per regarding-object name in `namespace`: objects written and total series count. */
export async function eventsPerRelease(kc: KubeConfig, namespace: string): Promise<Map<string, { objects: number; occurrences: number }>> {
  const api = kc.makeApiClient(EventsV1Api);
  const out = new Map<string, { objects: number; occurrences: number }>();
  let cont: string | undefined;
  let pages = 0;
  do {
    const list = await api.listNamespacedEvent({ namespace, limit: 500, ...(cont ? { _continue: cont } : {}) });
    for (const e of list.items) {
      const name = e.regarding?.name ?? '';
      const cur = out.get(name) ?? { objects: 0, occurrences: 0 };
      cur.objects++;
      cur.occurrences += e.series?.count ?? 1;
      out.set(name, cur);
    }
    cont = list.metadata?._continue || undefined;
  } while (cont && ++pages < 100);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// A local HTTPS evidence server (127.0.0.1, self-signed certificate made with the openssl CLI) whose answers
// can be changed during a test: a document, an HTTP error, a delay, or the whole server down and up again on
// the same port.

export interface Route {
  status?: number;
  body?: string | Buffer;
  /** Delay before answering (bounded by the server's close()). */
  delayMs?: number;
  headers?: Record<string, string>;
  /** Answer with this handler instead (full control: slow drip, hang, reset). */
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export interface EvidenceServer {
  port: number;
  /** host:port for CRA_GATE_HTTP_ALLOW_HOSTS */
  hostPort: string;
  /** PEM file to trust (CRA_GATE_HTTP_CA_FILE). */
  caFile: string;
  url(path: string): string;
  route(path: string, r: Route): void;
  /** Requests served per path. */
  hits: Map<string, number>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Makes (once per dir) a self-signed certificate for 127.0.0.1 / localhost; returns { cert, key } paths. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, 'evidence.crt');
  const key = path.join(dir, 'evidence.key');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  await mkdir(dir, { recursive: true });
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE'],
  { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

export async function startEvidenceServer(dir: string): Promise<EvidenceServer> {
  const { cert, key } = await selfSignedCert(dir);
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const r = routes.get(p) ?? { status: 404, body: 'not found' };
    const answer = (): void => {
      if (r.handler) return r.handler(req, res);
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body ?? '');
    };
    if (r.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer();
      }, r.delayMs);
      timers.add(t);
    } else answer();
  });
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const port = await listen(0);
  const closeNow = async (): Promise<void> => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    caFile: cert,
    url: (p) => `https://127.0.0.1:${port}${p}`,
    route: (p, r) => void routes.set(p, r),
    hits,
    down: async () => {
      if (server.listening) await closeNow();
    },
    up: async () => {
      if (!server.listening) await listen(port);
    },
    close: async () => {
      if (server.listening) await closeNow();
    },
  };
}
