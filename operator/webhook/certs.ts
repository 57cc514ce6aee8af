/**
 * Webhook TLS without cert-manager: a CA kept in a Secret of the operator namespace, a serving certificate
 * per replica (issued in memory, never stored), the CA bundle patched into the ValidatingWebhookConfiguration,
 * and rotation before expiry.
 *
 * - CA: ECDSA P-256, `--webhook-ca-validity` (default 1 year), renewed when a third of its life is left. The
 *   Secret (`cra-gate-webhook-ca`, type kubernetes.io/tls) holds the CA (tls.crt/tls.key) and `ca-bundle.crt`:
 *   the current CA plus the previous one while it is still valid, so certificates of either verify during a
 *   rotation. Replicas race safely: create → 409 ⇒ read; update with resourceVersion → 409 ⇒ re-read.
 * - Serving certificate: ECDSA P-256, `--webhook-cert-validity` (default 7 days, never past the CA's end),
 *   re-issued when two thirds of its life have passed, always from the CA currently in the Secret; swapped into
 *   the running server with `setSecureContext` (no restart, no dropped connections).
 * - caBundle: every replica makes each webhook of the configuration carry the Secret's bundle (JSON patch with
 *   a `test` of the webhook name), at start, after a CA rotation, and when the configuration changes (watch) —
 *   e.g. a `helm upgrade` that reset it.
 */
import { webcrypto, randomBytes } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer } from '../kube/informer.ts';
import { apiClient } from '../kube/pool.ts';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface ServingCertificate {
  cert: string;
  key: string;
  serialNumber: string;
  notAfter: Date;
}

export interface CertBootstrapOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  namespace: string;
  caSecretName: string;
  /** ValidatingWebhookConfiguration whose caBundle is kept in sync; empty = do not patch. */
  webhookConfigName: string;
  dnsNames: string[];
  ipAddresses: string[];
  caValidityMs: number;
  certValidityMs: number;
  /** Called with every new serving certificate (the first one before `start` resolves). */
  onCertificate(cert: ServingCertificate): void;
}

interface LoadedCa {
  certPem: string;
  cert: x509.X509Certificate;
  key: CryptoKey;
  bundle: string;
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function unb64(s: string | undefined): string {
  return s ? Buffer.from(s, 'base64').toString('utf8') : '';
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

export async function createCa(validityMs: number, now = new Date()): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=cra-gate-webhook-ca-${now.getTime()}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityMs),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

export async function issueServingCert(
  ca: { cert: x509.X509Certificate; key: CryptoKey },
  dnsNames: readonly string[],
  ipAddresses: readonly string[],
  validityMs: number,
  now = new Date(),
): Promise<ServingCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']));
  const notAfter = new Date(Math.min(now.getTime() + validityMs, ca.cert.notAfter.getTime()));
  const sn = serial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: sn,
    subject: `CN=${dnsNames[0] ?? ipAddresses[0] ?? 'cra-gate-webhook'}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), serialNumber: sn, notAfter };
}

/** Keeps the CA Secret, the serving certificate and the webhook configuration's caBundle current. */
export class CertificateBootstrap {
  private readonly opts: CertBootstrapOptions;
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ca: LoadedCa | undefined;
  private leaf: ServingCertificate | undefined;
  private leafIssuedAt = 0;
  private failures = 0;
  private informer: Informer<V1ValidatingWebhookConfiguration> | undefined;
  /** Serialises ticks and patches. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(opts: CertBootstrapOptions) {
    this.opts = opts;
    this.core = apiClient(opts.kubeConfig, CoreV1Api);
    this.admission = apiClient(opts.kubeConfig, AdmissionregistrationV1Api);
  }

  /** Loads or creates the CA, issues the first serving certificate, patches the caBundle, starts the watch. */
  async start(): Promise<void> {
    await this.tick();
    if (this.opts.webhookConfigName) {
      const name = this.opts.webhookConfigName;
      this.informer = new Informer<V1ValidatingWebhookConfiguration>({
        kubeConfig: this.opts.kubeConfig,
        log: this.opts.log,
        resource: 'validatingwebhookconfigurations',
        watchPath: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
        list: async ({ limit, continueToken }) =>
          (await this.admission.listValidatingWebhookConfiguration({ limit, ...(continueToken ? { _continue: continueToken } : {}) })),
      });
      this.informer.on((event, obj) => {
        if (event === 'delete' || obj.metadata?.name !== name || !this.ca) return;
        if (needsBundle(obj, this.ca.bundle)) this.serial(() => this.ensureBundle());
      });
      await this.informer.start();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.informer?.stop();
  }

  current(): ServingCertificate | undefined {
    return this.leaf;
  }

  caBundle(): string | undefined {
    return this.ca?.bundle;
  }

  private serial(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'webhook certificate upkeep failed'));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.serial(() => this.tick()), Math.max(1000, Math.min(ms, 6 * 3600_000)));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const before = this.ca?.certPem;
      this.ca = await this.loadCa();
      const caChanged = this.ca.certPem !== before;
      if (caChanged) await this.ensureBundle();
      const now = Date.now();
      const leafRenewAt = this.leaf ? this.leafIssuedAt + (this.leaf.notAfter.getTime() - this.leafIssuedAt) * (2 / 3) : 0;
      // Right after a CA change the API server may not have seen the new caBundle yet: keep serving the
      // current certificate (its CA stays in the bundle) for a few seconds when it is still valid.
      const graceMs = 5000;
      const deferForBundle = caChanged && !!this.leaf && this.leaf.notAfter.getTime() - now > 2 * graceMs;
      if (deferForBundle) {
        this.schedule(graceMs);
        return;
      }
      if (!this.leaf || now >= leafRenewAt) {
        this.leaf = await issueServingCert(this.ca, this.opts.dnsNames, this.opts.ipAddresses, this.opts.certValidityMs);
        this.leafIssuedAt = now;
        this.opts.log.info({ serialNumber: this.leaf.serialNumber, notAfter: this.leaf.notAfter.toISOString(), ca: this.ca.cert.subject }, 'webhook serving certificate issued');
        this.opts.onCertificate(this.leaf);
      }
      this.failures = 0;
      const nextLeaf = this.leafIssuedAt + (this.leaf.notAfter.getTime() - this.leafIssuedAt) * (2 / 3);
      this.schedule(Math.min(nextLeaf, this.caRenewAt(this.ca)) - Date.now());
    } catch (err) {
      this.failures++;
      const retry = Math.min(300_000, 2000 * 2 ** Math.min(this.failures, 8));
      this.opts.log.warn({ err: (err as Error).message, retryInMs: retry }, 'webhook certificate bootstrap failed; retrying');
      this.schedule(retry);
      if (!this.leaf) throw err;
    }
  }

  private caRenewAt(ca: LoadedCa): number {
    const life = ca.cert.notAfter.getTime() - ca.cert.notBefore.getTime();
    return ca.cert.notAfter.getTime() - life / 3;
  }

  private async loadCa(): Promise<LoadedCa> {
    const { namespace, caSecretName: name } = this.opts;
    for (let attempt = 0; attempt < 4; attempt++) {
      let secret: V1Secret | undefined;
      try {
        secret = await this.core.readNamespacedSecret({ namespace, name });
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw err;
      }
      if (!secret) {
        const ca = await createCa(this.opts.caValidityMs);
        try {
          secret = await this.core.createNamespacedSecret({ namespace, body: caSecret(namespace, name, ca.certPem, ca.keyPem, ca.certPem) });
          this.opts.log.info({ secret: `${namespace}/${name}` }, 'webhook CA created');
        } catch (err) {
          if (err instanceof ApiException && err.code === 409) continue;
          throw err;
        }
      }
      const loaded = await parseCa(secret);
      if (Date.now() < this.caRenewAt(loaded)) return loaded;
      // Due: rotate, keeping the previous CA in the bundle while it is valid.
      const next = await createCa(this.opts.caValidityMs);
      const keepOld = loaded.cert.notAfter.getTime() > Date.now() ? loaded.certPem : '';
      const body = caSecret(namespace, name, next.certPem, next.keyPem, next.certPem + keepOld);
      body.metadata!.resourceVersion = secret.metadata?.resourceVersion;
      try {
        const updated = await this.core.replaceNamespacedSecret({ namespace, name, body });
        this.opts.log.info({ secret: `${namespace}/${name}`, previousNotAfter: loaded.cert.notAfter.toISOString() }, 'webhook CA rotated');
        return await parseCa(updated);
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) continue; // another replica rotated: re-read
        throw err;
      }
    }
    throw new Error(`Secret ${namespace}/${name}: could not load or rotate the webhook CA`);
  }

  private async ensureBundle(): Promise<void> {
    const name = this.opts.webhookConfigName;
    if (!name || !this.ca) return;
    // The Secret is the truth: another replica may have rotated since we last read it.
    const bundle = this.ca.bundle;
    let vwc: V1ValidatingWebhookConfiguration;
    try {
      vwc = await this.admission.readValidatingWebhookConfiguration({ name });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        this.opts.log.warn({ validatingWebhookConfiguration: name }, 'webhook configuration not found; its caBundle is patched when it appears');
        return;
      }
      throw err;
    }
    const want = b64(bundle);
    const ops: unknown[] = [];
    (vwc.webhooks ?? []).forEach((w, i) => {
      if (w.clientConfig?.caBundle === want) return;
      ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
      ops.push({ op: w.clientConfig?.caBundle === undefined ? 'add' : 'replace', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
    });
    if (ops.length === 0) return;
    await this.admission.patchValidatingWebhookConfiguration({ name, body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    this.opts.log.info({ validatingWebhookConfiguration: name, webhooks: ops.length / 2 }, 'webhook caBundle patched');
  }
}

function needsBundle(vwc: V1ValidatingWebhookConfiguration, bundle: string): boolean {
  const want = b64(bundle);
  return (vwc.webhooks ?? []).some((w) => w.clientConfig?.caBundle !== want);
}

function caSecret(namespace: string, name: string, certPem: string, keyPem: string, bundle: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'cra-gate', 'cra-gate.dev/purpose': 'webhook-ca' } },
    data: { 'tls.crt': b64(certPem), 'tls.key': b64(keyPem), 'ca-bundle.crt': b64(bundle) },
  };
}

async function parseCa(secret: V1Secret): Promise<LoadedCa> {
  const certPem = unb64(secret.data?.['tls.crt']);
  const keyPem = unb64(secret.data?.['tls.key']);
  const bundle = unb64(secret.data?.['ca-bundle.crt']) || certPem;
  if (!certPem || !keyPem) throw new Error(`Secret ${secret.metadata?.name ?? '?'} lacks tls.crt or tls.key`);
  const cert = new x509.X509Certificate(certPem);
  const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALG, false, ['sign']);
  // Drop expired CAs from the bundle.
  const live = x509.PemConverter.decode(bundle)
    .map((der) => new x509.X509Certificate(der))
    .filter((c) => c.notAfter.getTime() > Date.now())
    .map((c) => c.toString('pem'))
    .join('\n');
  return { certPem, cert, key, bundle: live ? `${live}\n` : certPem };
}
