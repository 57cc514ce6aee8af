/** The trust policy of `ReleasePolicy.spec.signing`: keys from Secrets, keyless identities, the trusted root. */
import type { ReleasePolicy } from '../../api/types.ts';
import { craError } from '../../errors.ts';
import { parsePublicKey, parseTrustedRoot } from '../../sigstore/verify.ts';
import type { TrustPolicy, Verdict } from '../../sigstore/verify.ts';
import type { Rejection } from '../../types/evidence.ts';
import type { EvidenceSources } from '../collect.ts';

/** One key of a ConfigMap or Secret; a missing object, key or Secret access is SigningConfigInvalid. */
export async function readKey(sources: EvidenceSources, kind: 'ConfigMap' | 'Secret', ref: { namespace: string; name: string; key: string }): Promise<string> {
  const what = `${kind} ${ref.namespace}/${ref.name} key ${ref.key}`;
  if (kind === 'Secret' && !sources.readSecret) throw craError('SigningConfigInvalid', `${what}: Secrets cannot be read here`);
  const data = kind === 'Secret' ? await sources.readSecret!(ref.namespace, ref.name) : await sources.readConfigMap(ref.namespace, ref.name);
  if (!data) throw craError('SigningConfigInvalid', `${kind} ${ref.namespace}/${ref.name} not found`);
  const v = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
  if (typeof v !== 'string') throw craError('SigningConfigInvalid', `${kind} ${ref.namespace}/${ref.name} has no key ${ref.key}`);
  return v;
}

/** Loads the trust policy (keys from Secrets, the trusted root) of `spec.signing`. */
export async function loadTrustPolicy(policy: ReleasePolicy | undefined, sources: EvidenceSources): Promise<TrustPolicy> {
  const signing = policy?.spec.signing;
  const keys = [];
  for (const k of signing?.keys ?? []) {
    const ref = k.secretRef;
    keys.push(parsePublicKey(await readKey(sources, 'Secret', ref), `Secret ${ref.namespace}/${ref.name} key ${ref.key}`));
  }
  const keyless = (signing?.keyless ?? []).map((k) => ({ issuer: k.issuer, ...(k.subject !== undefined ? { subject: k.subject } : {}), ...(k.subjectRegExp !== undefined ? { subjectRegExp: k.subjectRegExp } : {}) }));
  const tr = signing?.trustedRoot;
  let trustedRoot;
  if (tr?.configMapRef) trustedRoot = parseTrustedRoot(await readKey(sources, 'ConfigMap', tr.configMapRef), `ConfigMap ${tr.configMapRef.namespace}/${tr.configMapRef.name}`);
  else if (tr?.secretRef) trustedRoot = parseTrustedRoot(await readKey(sources, 'Secret', tr.secretRef), `Secret ${tr.secretRef.namespace}/${tr.secretRef.name}`);
  return { keys, keyless, ...(trustedRoot ? { trustedRoot } : {}) };
}

/** A failed verdict as recorded in the evidence. */
export function rejection(v: Extract<Verdict, { ok: false }>, source: string): Rejection {
  return { signer: v.signer, reason: v.reason, message: v.message, source };
}
