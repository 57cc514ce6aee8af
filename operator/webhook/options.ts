/**
 * Flags and environment of the admission webhook and decision signing (merged into ../config.ts).
 */
import type { AdmissionMode } from './gate.ts';

export interface WebhookConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** ValidatingWebhookConfiguration whose caBundle the operator maintains ('' = none, e.g. cert-manager). */
  configName: string;
  /** Directory with tls.crt/tls.key (cert-manager); when set, no CA bootstrap. */
  certDir?: string;
  caSecret: string;
  dnsNames: string[];
  ipAddresses: string[];
  caValidityMs: number;
  certValidityMs: number;
  exemptNamespaces: string[];
  exemptServiceAccounts: string[];
  /** Mode of a namespace sent to the observe webhook without a (valid) label. */
  defaultMode: AdmissionMode;
  resolveTimeoutMs: number;
}

export interface SigningConfig {
  enabled: boolean;
  keySecret: string;
}

export const WEBHOOK_FLAGS = {
  webhook: { type: 'string' },
  'webhook-bind': { type: 'string' },
  'webhook-config-name': { type: 'string' },
  'webhook-cert-dir': { type: 'string' },
  'webhook-ca-secret': { type: 'string' },
  'webhook-dns-names': { type: 'string' },
  'webhook-ip-addresses': { type: 'string' },
  'webhook-exempt-namespaces': { type: 'string' },
  'webhook-exempt-service-accounts': { type: 'string' },
  'sign-decisions': { type: 'string' },
  'decision-key-secret': { type: 'string' },
} as const;

export const WEBHOOK_USAGE = `  --webhook BOOL            serve the admission webhook [CRA_GATE_WEBHOOK] (false)
  --webhook-bind HOST:PORT  admission webhook (HTTPS) [CRA_GATE_WEBHOOK_BIND] (0.0.0.0:9443)
  --webhook-config-name N   ValidatingWebhookConfiguration whose caBundle is maintained; "" for none
                            [CRA_GATE_WEBHOOK_CONFIG_NAME] (cra-gate)
  --webhook-cert-dir DIR    use tls.crt/tls.key from DIR (cert-manager) instead of the CA bootstrap
                            [CRA_GATE_WEBHOOK_CERT_DIR]
  --webhook-ca-secret NAME  Secret holding the webhook CA [CRA_GATE_WEBHOOK_CA_SECRET] (cra-gate-webhook-ca)
  --webhook-dns-names LIST  serving certificate DNS names [CRA_GATE_WEBHOOK_DNS_NAMES]
                            (cra-gate-webhook.NS.svc,cra-gate-webhook.NS.svc.cluster.local)
  --webhook-ip-addresses L  serving certificate IP addresses [CRA_GATE_WEBHOOK_IP_ADDRESSES] (none)
  --webhook-exempt-namespaces LIST      always admitted, besides kube-system and the operator namespace
                            [CRA_GATE_WEBHOOK_EXEMPT_NAMESPACES]
  --webhook-exempt-service-accounts L   namespace/name entries always admitted
                            [CRA_GATE_WEBHOOK_EXEMPT_SERVICE_ACCOUNTS]
  --sign-decisions BOOL     sign every decision (DSSE) [CRA_GATE_SIGN_DECISIONS] (true)
  --decision-key-secret N   Secret holding the decision signing key [CRA_GATE_DECISION_KEY_SECRET_NAME] (cra-gate-decision-key)
  CRA_GATE_WEBHOOK_CA_VALIDITY_S, CRA_GATE_WEBHOOK_CERT_VALIDITY_S   CA (1 y) and serving certificate (7 d) validity
  CRA_GATE_WEBHOOK_DEFAULT_MODE      mode of a namespace the observe webhook gets without a label (audit)
  CRA_GATE_WEBHOOK_RESOLVE_TIMEOUT_MS   tag → digest resolution budget per review (2000)
`;

type Values = Partial<Record<keyof typeof WEBHOOK_FLAGS, string>>;

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function boolOf(name: string, raw: string | undefined, def: boolean): boolean {
  if (raw === undefined || raw === '') return def;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new Error(`invalid ${name}: ${JSON.stringify(raw)} (true or false)`);
}

function seconds(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined || raw === '') return def * 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 5 || n > 20 * 365 * 86400) throw new Error(`invalid ${name}: ${JSON.stringify(raw)} (seconds, 5 or more)`);
  return n * 1000;
}

export function parseWebhookConfig(values: Values, env: NodeJS.ProcessEnv, namespace: string): { webhook: WebhookConfig; signing: SigningConfig } {
  const bind = values['webhook-bind'] ?? env.CRA_GATE_WEBHOOK_BIND ?? '0.0.0.0:9443';
  const m = /^(.*):(\d+)$/.exec(bind);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid webhook bind address ${JSON.stringify(bind)} (HOST:PORT)`);
  const defaultMode = env.CRA_GATE_WEBHOOK_DEFAULT_MODE ?? 'audit';
  if (!['enforce', 'warn', 'audit'].includes(defaultMode)) throw new Error(`invalid CRA_GATE_WEBHOOK_DEFAULT_MODE ${JSON.stringify(defaultMode)} (enforce, warn or audit)`);
  const dns = list(values['webhook-dns-names'] ?? env.CRA_GATE_WEBHOOK_DNS_NAMES);
  const certDir = values['webhook-cert-dir'] ?? env.CRA_GATE_WEBHOOK_CERT_DIR;
  const resolveTimeout = Number(env.CRA_GATE_WEBHOOK_RESOLVE_TIMEOUT_MS ?? 2000);
  const sas = list(values['webhook-exempt-service-accounts'] ?? env.CRA_GATE_WEBHOOK_EXEMPT_SERVICE_ACCOUNTS);
  for (const sa of sas) if (!/^[^/\s]+\/[^/\s]+$/.test(sa)) throw new Error(`invalid exempt service account ${JSON.stringify(sa)} (namespace/name)`);
  return {
    webhook: {
      enabled: boolOf('webhook', values.webhook ?? env.CRA_GATE_WEBHOOK, false),
      host: m[1] || '0.0.0.0',
      port,
      configName: values['webhook-config-name'] ?? env.CRA_GATE_WEBHOOK_CONFIG_NAME ?? 'cra-gate',
      ...(certDir ? { certDir } : {}),
      caSecret: values['webhook-ca-secret'] ?? env.CRA_GATE_WEBHOOK_CA_SECRET ?? 'cra-gate-webhook-ca',
      dnsNames: dns.length ? dns : [`cra-gate-webhook.${namespace}.svc`, `cra-gate-webhook.${namespace}.svc.cluster.local`],
      ipAddresses: list(values['webhook-ip-addresses'] ?? env.CRA_GATE_WEBHOOK_IP_ADDRESSES),
      caValidityMs: seconds('CRA_GATE_WEBHOOK_CA_VALIDITY_S', env.CRA_GATE_WEBHOOK_CA_VALIDITY_S, 365 * 86400),
      certValidityMs: seconds('CRA_GATE_WEBHOOK_CERT_VALIDITY_S', env.CRA_GATE_WEBHOOK_CERT_VALIDITY_S, 7 * 86400),
      exemptNamespaces: [...new Set(['kube-system', namespace, ...list(values['webhook-exempt-namespaces'] ?? env.CRA_GATE_WEBHOOK_EXEMPT_NAMESPACES)])],
      exemptServiceAccounts: sas,
      defaultMode: defaultMode as AdmissionMode,
      resolveTimeoutMs: Number.isFinite(resolveTimeout) && resolveTimeout >= 100 ? Math.min(resolveTimeout, 8000) : 2000,
    },
    signing: {
      enabled: boolOf('sign-decisions', values['sign-decisions'] ?? env.CRA_GATE_SIGN_DECISIONS, true),
      // The variable holds a Secret's NAME: `…_SECRET_NAME`, so a scanner (ours: config.secure-defaults) does not
      // take it for a hard-coded secret value. CRA_GATE_DECISION_KEY_SECRET is still read (earlier charts).
      keySecret: values['decision-key-secret'] ?? env.CRA_GATE_DECISION_KEY_SECRET_NAME ?? env.CRA_GATE_DECISION_KEY_SECRET ?? 'cra-gate-decision-key',
    },
  };
}
