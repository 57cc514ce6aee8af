/**
 * The decision signing key: Ed25519, generated once into a Secret in the operator namespace
 * (`cra-gate-decision-key`, keys `private.pem` (PKCS#8) and `public.pem` (SPKI)). Every replica reads the same
 * Secret; when two start at once, the second create gets 409 and reads the winner's key.
 *
 * Rotation: add the old key's `public.pem` as `previous-public.pem` (kept for verification) and replace the
 * private/public pair; the leader re-signs every release on its next reconcile (a decision that does not verify
 * with the current key is rewritten).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ApiException, CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { craError } from '../errors.ts';
import { decisionKey, type DecisionKey } from './decision.ts';
import { apiClient } from '../kube/pool.ts';

export const DEFAULT_DECISION_KEY_SECRET = 'cra-gate-decision-key';

export interface DecisionKeys {
  /** The current key (with its private half). */
  signing: DecisionKey;
  /** Keys a decision may verify with: the current one first, then previous ones. */
  verifying: DecisionKey[];
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export function keysFromSecret(secret: V1Secret): DecisionKeys {
  const data = secret.data ?? {};
  const priv = data['private.pem'];
  if (!priv) throw craError('Internal', `Secret ${secret.metadata?.name ?? '?'} has no private.pem`);
  const signing = decisionKey(createPrivateKey(Buffer.from(priv, 'base64').toString('utf8')));
  const verifying = [signing];
  const prev = data['previous-public.pem'];
  if (prev) verifying.push(decisionKey(undefined, createPublicKey(Buffer.from(prev, 'base64').toString('utf8'))));
  return { signing, verifying };
}

export function newKeySecret(namespace: string, name: string): V1Secret {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'cra-gate', 'cra-gate.dev/purpose': 'decision-signing' } },
    type: 'Opaque',
    data: {
      'private.pem': b64(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
      'public.pem': b64(publicKey.export({ type: 'spki', format: 'pem' }) as string),
    },
  };
}

/** Reads the key Secret, creating it (once, race-safe) when it does not exist. */
export async function loadOrCreateDecisionKeys(kubeConfig: KubeConfig, namespace: string, name = DEFAULT_DECISION_KEY_SECRET): Promise<DecisionKeys> {
  const api = apiClient(kubeConfig, CoreV1Api);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return keysFromSecret(await api.readNamespacedSecret({ namespace, name }));
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 404) throw wrap(err, `reading Secret ${namespace}/${name}`);
    }
    try {
      return keysFromSecret(await api.createNamespacedSecret({ namespace, body: newKeySecret(namespace, name) }));
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw wrap(err, `creating Secret ${namespace}/${name}`);
    }
  }
  throw craError('ApiServerError', `Secret ${namespace}/${name}: could not read or create it`);
}

function wrap(err: unknown, what: string): Error {
  const code = err instanceof ApiException ? `HTTP ${err.code}` : (err as Error).message;
  return craError('ApiServerError', `${what}: ${code}`, { cause: err });
}

export interface LoadKeysOptions {
  /** Attempts before giving up (default: until it works or `signal` aborts). */
  attempts?: number;
  /** Longest pause between attempts (default 30 s; the pauses grow 1 s, 2 s, 4 s, … up to it). */
  maxDelayMs?: number;
  /** Stops retrying (shutdown). */
  signal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `loadOrCreateDecisionKeys`, retried with capped exponential backoff. By default it keeps trying: an operator
 * that signs decisions (or a webhook that verifies them) must not run without its key — a leader that came up
 * while the apiserver was unreachable would otherwise write Approved decisions without a signature for as long as
 * it lives, and its webhook would deny every workload of them. The caller stays unready meanwhile. Undefined
 * (logged) only when `attempts` runs out or `signal` aborts.
 */
export async function loadDecisionKeys(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  opts: LoadKeysOptions = {},
): Promise<DecisionKeys | undefined> {
  const attempts = opts.attempts ?? Infinity;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 0; i < attempts && !opts.signal?.aborted; i++) {
    try {
      const keys = await loadOrCreateDecisionKeys(kubeConfig, namespace, name);
      log.info({ secret: `${namespace}/${name}`, keyid: keys.signing.keyid, attempt: i + 1 }, 'decision signing key loaded');
      return keys;
    } catch (err) {
      const delayMs = Math.min(maxDelayMs, 1000 * 2 ** Math.min(i, 16));
      log.error({ err: (err as Error).message, attempt: i + 1, retryInMs: i + 1 < attempts ? delayMs : undefined }, 'decision signing key unavailable; not ready until it loads');
      if (i + 1 < attempts) await sleep(delayMs);
    }
  }
  return undefined;
}
