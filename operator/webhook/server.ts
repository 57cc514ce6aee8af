/**
 * The admission webhook server: HTTPS on its own port (`--webhook-bind`), served by every replica from its
 * informer caches. POST /validate/enforce and /validate/observe take an AdmissionReview v1; GET /healthz.
 * TLS from the CA bootstrap (./certs.ts) or from files (cert-manager, `--webhook-cert-dir`), swapped in
 * without a restart when renewed.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { DecisionKey } from '../attestation/decision.ts';
import { Informer } from '../kube/informer.ts';
import type { CachedPolicy, CachedRelease } from '../kube/projection.ts';
import type { EventRecorder } from '../kube/events.ts';
import { review, type AdmissionRequest } from './admission.ts';
import { CertificateBootstrap, type ServingCertificate } from './certs.ts';
import { ReleaseIndex } from './gate.ts';
import type { WebhookConfig } from './options.ts';
import { CachingDigestResolver } from './resolver.ts';
import { OciManifestSource, type RegistryClientOptions } from './registry.ts';
import { apiClient } from '../kube/pool.ts';

export interface WebhookOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  registry: Registry;
  /** The controller's caches: projections (../kube/projection.ts). */
  releases: Informer<CachedRelease>;
  policies: Informer<CachedPolicy>;
  defaultPolicy: string;
  /** Namespace of the CA Secret. */
  namespace: string;
  config: WebhookConfig;
  /** Keys a signed decision may verify with. */
  keys: () => readonly DecisionKey[];
  events?: EventRecorder;
  /** Registry client options for tag resolution (the composition root's EvidenceRuntime.registry: network, allow-list, CA, cache). */
  registryOptions: RegistryClientOptions;
}

export interface WebhookServer {
  port: number;
  /** Handler durations (seconds) of the most recent reviews, oldest first (bounded; for benchmarks). */
  recentDurations(): number[];
  certificate(): ServingCertificate | undefined;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;
const RING = 20_000;

export async function startWebhook(opts: WebhookOptions): Promise<WebhookServer> {
  const { log, config } = opts;
  const wlog = log.child({ component: 'webhook' });
  const reviews = new Counter({
    name: 'cra_gate_admission_reviews_total',
    help: 'Admission reviews answered, by namespace mode and outcome (allowed, denied, warned, audited, exempt, skipped, error).',
    labelNames: ['mode', 'outcome'],
    registers: [opts.registry],
  });
  const violationsTotal = new Counter({
    name: 'cra_gate_admission_violations_total',
    help: 'Images that violated the gate at admission, by namespace mode and reason (audit mode: would have been denied).',
    labelNames: ['mode', 'reason'],
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'cra_gate_admission_duration_seconds',
    help: 'Time to answer an admission review inside the webhook.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.registry],
  });

  const core = apiClient(opts.kubeConfig, CoreV1Api);
  const namespaces = new Informer<V1Namespace>({
    kubeConfig: opts.kubeConfig,
    log: wlog,
    resource: 'namespaces',
    watchPath: '/api/v1/namespaces',
    list: async ({ limit, continueToken }) => (await core.listNamespace({ limit, ...(continueToken ? { _continue: continueToken } : {}) })),
  });
  await namespaces.start();
  const index = new ReleaseIndex(opts.releases, opts.keys, { policyGeneration: (name) => opts.policies.get(name)?.metadata?.generation });
  const resolver = new CachingDigestResolver({ source: new OciManifestSource(opts.registryOptions, config.resolveTimeoutMs), timeoutMs: config.resolveTimeoutMs });

  const durations: number[] = [];
  let ringPos = 0;
  const ctx = {
    index,
    resolver,
    settings: () => opts.policies.get(opts.defaultPolicy)?.spec.admission,
    namespace: async (name: string): Promise<V1Namespace | undefined> => {
      const hit = namespaces.get(name);
      if (hit) return hit;
      try {
        // A namespace created a moment ago may not have reached the cache yet.
        return await core.readNamespace({ name });
      } catch {
        return undefined;
      }
    },
    exemptNamespaces: config.exemptNamespaces,
    exemptServiceAccounts: config.exemptServiceAccounts,
    defaultMode: config.defaultMode,
    ...(opts.events ? { events: opts.events } : {}),
    log: wlog,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://webhook');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const which = url.pathname === '/validate/enforce' ? 'enforce' : url.pathname === '/validate/observe' ? 'observe' : undefined;
    if (req.method !== 'POST' || !which) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('request too large\n');
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    let body: { apiVersion?: string; kind?: string; request?: AdmissionRequest };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed AdmissionReview\n');
      return;
    }
    const request = body?.request;
    if (body?.kind !== 'AdmissionReview' || !request || typeof request.uid !== 'string') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('not an AdmissionReview with a request\n');
      return;
    }
    let answer;
    try {
      const r = await review(ctx, which, request);
      reviews.inc({ mode: r.mode, outcome: r.outcome });
      for (const v of r.violations) violationsTotal.inc({ mode: r.mode, reason: v.reason });
      if (r.outcome === 'denied' || r.outcome === 'audited' || r.outcome === 'warned') {
        wlog.info(
          { uid: request.uid, kind: request.kind?.kind, namespace: request.namespace, name: request.name, mode: r.mode, outcome: r.outcome, reasons: r.violations.map((v) => v.reason) },
          `admission ${r.outcome}`,
        );
      }
      answer = r.response;
    } catch (err) {
      // Never an unhandled failure: enforce fails closed, observe admits.
      reviews.inc({ mode: which === 'enforce' ? 'enforce' : 'observe', outcome: 'error' });
      wlog.error({ err: (err as Error).message, uid: request.uid }, 'admission review failed');
      answer =
        which === 'enforce'
          ? { uid: request.uid, allowed: false, status: { code: 500, reason: 'InternalError', message: `cra-gate could not evaluate the request: ${(err as Error).message}` } }
          : { uid: request.uid, allowed: true };
    }
    const out = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer });
    res.writeHead(200, { 'content-type': 'application/json' }).end(out);
    const secs = (performance.now() - started) / 1000;
    duration.observe(secs);
    if (durations.length < RING) durations.push(secs);
    else durations[ringPos++ % RING] = secs;
  };

  // TLS material.
  let bootstrap: CertificateBootstrap | undefined;
  let fileWatch: FSWatcher | undefined;
  const holder: { server?: Server } = {};
  let current: ServingCertificate | undefined;
  const apply = (c: ServingCertificate): void => {
    current = c;
    holder.server?.setSecureContext({ cert: c.cert, key: c.key, minVersion: 'TLSv1.2' });
  };
  if (config.certDir) {
    const dir = config.certDir;
    const load = (): ServingCertificate => ({
      cert: readFileSync(path.join(dir, 'tls.crt'), 'utf8'),
      key: readFileSync(path.join(dir, 'tls.key'), 'utf8'),
      serialNumber: '',
      notAfter: new Date(0),
    });
    current = load();
    let debounce: NodeJS.Timeout | undefined;
    // Secret volumes are updated by swapping a symlink: any change in the directory means reload.
    fileWatch = watch(dir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        try {
          apply(load());
          wlog.info({ dir }, 'webhook serving certificate reloaded');
        } catch (err) {
          wlog.warn({ err: (err as Error).message }, 'webhook certificate reload failed; keeping the previous one');
        }
      }, 500);
    });
  } else {
    bootstrap = new CertificateBootstrap({
      kubeConfig: opts.kubeConfig,
      log: wlog,
      namespace: opts.namespace,
      caSecretName: config.caSecret,
      webhookConfigName: config.configName,
      dnsNames: config.dnsNames,
      ipAddresses: config.ipAddresses,
      caValidityMs: config.caValidityMs,
      certValidityMs: config.certValidityMs,
      onCertificate: apply,
    });
    await bootstrap.start();
  }
  if (!current) throw new Error('no webhook serving certificate');

  const srv = createServer({ cert: current.cert, key: current.key, minVersion: 'TLSv1.2', requestTimeout: 15_000, headersTimeout: 10_000, keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      wlog.error({ err: (err as Error).message }, 'webhook handler crashed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  holder.server = srv;
  srv.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(config.port, config.host, () => {
      srv.off('error', reject);
      resolve();
    });
  });
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  wlog.info({ port, host: config.host }, 'admission webhook listening');

  return {
    port,
    recentDurations: () => (durations.length < RING ? [...durations] : [...durations.slice(ringPos % RING), ...durations.slice(0, ringPos % RING)]),
    certificate: () => current,
    close: async () => {
      bootstrap?.stop();
      fileWatch?.close();
      namespaces.stop();
      resolver.close();
      srv.closeIdleConnections();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          srv.closeAllConnections();
          resolve();
        }, 5000);
        srv.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
