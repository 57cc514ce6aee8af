/**
 * The cra-gate operator process: configuration → logger, metrics, health server → informers →
 * leader election → reconcile. SIGTERM/SIGINT, in order: stop intake, cancel in-flight reconciles and the feed
 * refresh (their signals; bounded wait for them to return), release the Lease, close the servers, flush logs and
 * exit — well within the pod's termination grace period (a hard stop at `shutdownTimeoutMs` backs it up).
 * Losing the Lease cancels running reconciles at once (nothing is written after that) and exits.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig, USAGE } from './config.ts';
import { createLogger, flushLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { registerReleaseMetrics } from './metrics-release.ts';
import { startServer } from './server.ts';
import { EventRecorder } from './kube/events.ts';
import { LeaderElector } from './kube/leader.ts';
import { ReleaseController } from './controller/controller.ts';
import { loadDecisionKeys, type DecisionKeys } from './attestation/keys.ts';
import { startWebhook, type WebhookServer } from './webhook/server.ts';
import { createEvidenceRuntime } from './evidence/runtime.ts';
import { feedBudgetFor } from './evidence/feeds.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`cra-gate: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const log = createLogger({ env: process.env });
  // Issue 16: SBOM workers' heap × concurrency and feed parsing fit in what the container's memory limit leaves
  // (passed to the evidence runtime below).
  log.info({ memory: config.memory }, 'memory budget');
  const metrics = createMetrics();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const cluster = kubeConfig.getCurrentCluster();
  log.info(
    { server: cluster?.server, identity: config.identity, defaultPolicy: config.defaultPolicy, leaderElection: config.leaderElection },
    'cra-gate operator starting',
  );

  const server = await startServer({ host: config.metricsHost, port: config.metricsPort, registry: metrics.registry, log });
  log.info({ port: server.port }, 'health and metrics endpoint listening');

  // Events are written off the reconcile path: a bounded queue, one writer, held (≤ 10 s) while releases wait in
  // the work queue so their status writes reach the API server first; drops are counted.
  const busy: { queued: () => number } = { queued: () => 0 };
  const events = new EventRecorder({
    kubeConfig,
    log,
    reportingInstance: config.identity,
    onDrop: (why) => metrics.eventsDroppedTotal.inc({ reason: why }),
    defer: () => busy.queued() > 0,
  });
  // The composition root: the network capability, the feed store, the SBOM analysis cache and worker limit and
  // the registry content cache are created here once and passed down (no module singletons, no env reads below).
  const feedBudget = feedBudgetFor(config.memory.mainHeapMb, config.memory.summary);
  const evidence = createEvidenceRuntime({
    network: 'allow',
    ...config.network,
    feedMaxAgeMs: config.feedRefreshMs,
    sbom: { budget: { heapMb: config.memory.workerHeapMb, workers: config.memory.workers, summary: config.memory.summary } },
    ...(feedBudget ? { feedBudget } : {}),
  });
  // Issue 9: the decision signing key (Secret in the operator namespace), for the leader and the webhook.
  let decisionKeys: DecisionKeys | undefined;
  if (config.signing.enabled || config.webhook.enabled) {
    // Retried until it loads (the pod stays unready meanwhile): never sign nothing or verify against nothing.
    decisionKeys = await loadDecisionKeys(kubeConfig, config.namespace, config.signing.keySecret, log);
    if (!decisionKeys) throw new Error(`decision signing key ${config.namespace}/${config.signing.keySecret} could not be loaded`);
  }
  const controller = new ReleaseController({
    kubeConfig,
    log,
    metrics,
    events,
    defaultPolicy: config.defaultPolicy,
    concurrency: config.concurrency,
    operatorNamespace: config.namespace,
    evidence,
    feedRefreshMs: config.feedRefreshMs,
    waiverWarnDays: config.waiverWarnDays,
    reconcileTimeoutMs: config.reconcileTimeoutMs,
    // Without list/watch on ConfigMaps (chart rbac.watchConfigMaps=false) no watch is tried: changes are seen at re-evaluation.
    watchReferences: config.watchConfigMaps,
    // Fence: a write happens only while the elector holds a Lease renewed within the renew deadline.
    holdsLease: () => !config.leaderElection || (leadership.elector?.holdsLease() ?? false),
    ...(config.signing.enabled ? { signingKey: () => decisionKeys?.signing } : {}),
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
  });

  busy.queued = () => controller.queue.len();
  // Per-release series (kube-state-metrics style) from the informer cache, exported by the leader only.
  if (config.perReleaseMetrics) {
    registerReleaseMetrics({ registry: metrics.registry, releases: () => controller.releases.list(), active: () => controller.isLeading() });
  }

  const leadership: { elector?: LeaderElector; webhook?: WebhookServer } = {};
  let shuttingDown = false;
  const shutdown = async (signal: string, code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: stopping intake and draining reconciles');
    const hardStop = setTimeout(() => process.exit(code || 1), config.shutdownTimeoutMs);
    hardStop.unref();
    server.setReady(false);
    // Stop intake and cancel in-flight work; wait at most a third of the budget for handlers to return.
    await controller.stop(Math.floor(config.shutdownTimeoutMs / 3));
    if (leadership.elector) await leadership.elector.stop({ release: true });
    await leadership.webhook?.close();
    await server.close();
    log.info('stopped');
    await flushLogger(log);
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));

  await controller.startInformers();
  if (config.webhook.enabled) {
    leadership.webhook = await startWebhook({
      kubeConfig,
      log,
      registry: metrics.registry,
      releases: controller.releases,
      policies: controller.policies,
      defaultPolicy: config.defaultPolicy,
      namespace: config.namespace,
      config: config.webhook,
      keys: () => decisionKeys?.verifying ?? [],
      events,
      registryOptions: evidence.registry,
    });
  }
  server.setReady(true);
  log.info({ releases: controller.releases.size, policies: controller.policies.size }, 'caches synced');

  if (!config.leaderElection) {
    metrics.leader.set(1);
    controller.startLeading();
    return;
  }
  const elector = new LeaderElector({
    kubeConfig,
    namespace: config.namespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      log.info({ identity: config.identity }, 'became leader; reconciling');
      controller.startLeading();
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      controller.stopLeading();
      if (shuttingDown) return;
      // Never reconcile without the lease: exit and let the restart re-join the election.
      log.error('lost leadership; exiting');
      void shutdown('lost-lease', 1);
    },
  });
  leadership.elector = elector;
  void elector.run();
}

main().catch((err: unknown) => {
  process.stderr.write(`cra-gate: fatal: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
