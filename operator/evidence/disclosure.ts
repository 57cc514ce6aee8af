/**
 * Evidence collector for disclosure.security-txt, disclosure.contact (the security.txt Contact fields),
 * disclosure.cvd-policy (the policy text, bounded to 1 MiB, with its Content-Type) and the update-channel probe
 * (update.channel with params.probe: true): each URL is fetched through the SSRF-guarded fetcher (https
 * only; private, loopback and link-local addresses refused on every redirect hop unless allow-listed).
 * Only what the policy's checks need is fetched.
 */
import { isCraGateError, errorMessage, reasonOf } from '../errors.ts';
import type { DisclosureEvidence, FetchedDocument } from '../disclosure/evidence.ts';
import type { Collector, CollectContext } from './collect.ts';
import { fetchBytes } from './https.ts';
import type { FetchOptions, FetchResult } from './https.ts';

const MAX_TEXT_BYTES = 1024 * 1024;

export interface DisclosureCollectorOptions {
  readonly fetch?: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  /** Merged over `ctx.runtime.http`. */
  readonly fetchOptions?: FetchOptions;
}

/** Fetches one document with the collection's network options (`ctx.runtime.http`) and signal. */
export async function fetchDocument(url: string, opts: DisclosureCollectorOptions, keepText: boolean, ctx: Pick<CollectContext, 'runtime' | 'signal'>): Promise<FetchedDocument> {
  try {
    const r = await (opts.fetch ?? fetchBytes)(url, { maxBytes: MAX_TEXT_BYTES, timeoutMs: 15_000, ...ctx.runtime.http, ...opts.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const contentType = r.contentType ?? r.headers?.['content-type'];
    return {
      url, ok: true, status: r.status, finalUrl: r.finalUrl, digest: `sha256:${r.sha256}`,
      ...(contentType ? { contentType } : {}),
      ...(keepText ? { text: r.bytes.toString('utf8') } : {}),
    };
  } catch (err) {
    const m = /HTTP (\d{3})/.exec(errorMessage(err));
    const httpStatus = m && !/without Location/.test(errorMessage(err)) ? Number(m[1]) : undefined;
    const reason = isCraGateError(err) ? reasonOf(err) : 'FetchFailed';
    return { url, ok: false, error: { reason, message: errorMessage(err, 200), ...(httpStatus !== undefined ? { httpStatus } : {}) } };
  }
}

export function makeDisclosureCollector(opts: DisclosureCollectorOptions = {}): Collector {
  return async function disclosureCollector(ctx: CollectContext) {
    const checks = new Map((ctx.policy?.spec.checks ?? []).filter((c) => c.enforcement !== 'Off').map((c) => [c.id, c]));
    const vh = ctx.release.spec.vulnerabilityHandling ?? {};
    const out: { -readonly [K in keyof DisclosureEvidence]: DisclosureEvidence[K] } = {};
    const jobs: Promise<void>[] = [];
    // security.txt: for its own check, and for disclosure.contact (its Contact fields designate reporting channels)
    if ((checks.has('disclosure.security-txt') || checks.has('disclosure.contact')) && vh.securityTxt) {
      jobs.push(fetchDocument(vh.securityTxt, opts, true, ctx).then((d) => void (out.securityTxt = d)));
    }
    if (checks.has('disclosure.cvd-policy') && vh.disclosurePolicy) {
      jobs.push(fetchDocument(vh.disclosurePolicy, opts, true, ctx).then((d) => void (out.disclosurePolicy = d)));
    }
    const upd = checks.get('update.channel');
    const channel = ctx.release.spec.updates?.channel;
    if (upd?.params?.probe === true && channel) {
      jobs.push(fetchDocument(channel, opts, true, ctx).then((d) => void (out.updateChannel = d)));
    }
    if (jobs.length === 0) return {};
    await Promise.all(jobs);
    return { disclosure: out };
  };
}

export const collectDisclosure: Collector = makeDisclosureCollector();
