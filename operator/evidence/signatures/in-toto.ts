/** What a signed payload says was signed: cosign simple-signing payloads and in-toto statements (v0.1 / v1). */

/** The image digest in a cosign simple-signing payload. */
export function simpleSigningDigest(payload: Buffer): string | undefined {
  try {
    const p = JSON.parse(payload.toString('utf8')) as { critical?: { image?: { 'docker-manifest-digest'?: unknown } } };
    const d = p.critical?.image?.['docker-manifest-digest'];
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

export interface Statement {
  readonly predicateType: string;
  readonly subjectDigests: string[];
  readonly predicate: unknown;
}

/** An in-toto statement (v0.1 / v1) from a DSSE payload. */
export function inTotoStatement(payloadType: string, payload: Buffer): Statement | undefined {
  if (payloadType !== 'application/vnd.in-toto+json') return undefined;
  try {
    const s = JSON.parse(payload.toString('utf8')) as { predicateType?: unknown; subject?: { digest?: Record<string, unknown> }[]; predicate?: unknown };
    if (typeof s.predicateType !== 'string' || !Array.isArray(s.subject)) return undefined;
    const subjectDigests = s.subject.flatMap((x) => Object.entries(x?.digest ?? {}).filter(([, v]) => typeof v === 'string').map(([alg, v]) => `${alg}:${String(v).toLowerCase()}`));
    return { predicateType: s.predicateType, subjectDigests, predicate: s.predicate };
  } catch {
    return undefined;
  }
}

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * DSSE predicates accepted as a *signature* of a url artifact: only cosign's signing predicate (cosign v3 signs
 * with it; its predicate carries no claim beyond "signed"). `cosign sign-blob --bundle` writes a message
 * signature instead, which is accepted without a predicate.
 */
export const URL_SIGNATURE_PREDICATES: ReadonlySet<string> = new Set([COSIGN_SIGN_PREDICATE]);

export function isSbomPredicate(t: string): boolean {
  return /^https:\/\/cyclonedx\.org\/bom(\/v?[\d.]+)?$/.test(t) || /^https:\/\/spdx\.dev\/Document(\/v?[\d.]+)?$/.test(t) || t === 'cyclonedx' || t === 'spdx' || t === 'spdxjson';
}
