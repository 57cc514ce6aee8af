/**
 * disclosure.security-txt — RFC 9116 (guidance; makes Annex I Part II(5),(6) and Annex II(2) concrete): the declared security.txt is fetched over HTTPS and
 * has a Contact, exactly one Expires in the future, and a Policy. Its expiry is a `changesAt`.
 *
 * disclosure.cvd-policy — Annex I Part II(5), Annex II(2) (ISO/IEC 29147 as guidance): the coordinated
 * vulnerability disclosure policy URL resolves (HTTPS, 2xx after bounded redirects, through the SSRF guard) to
 * a document about reporting vulnerabilities — positive content evidence, not any 2xx page (a marketing
 * homepage is not a CVD policy): see ../disclosure/policy-text.ts and docs/disclosure.md. The reporting
 * channel it names must be one disclosure.contact accepts (the same classifier).
 *
 * `updateChannelProbe()` — the `update.channel` probe (params.probe: true): the channel is reachable over
 * HTTPS and serves a document listing this release's version.
 *
 * HTTP 4xx is a violation (the document is not there); network failures are Error (retried), and the SSRF
 * guard's refusal is Error UrlNotAllowed (fail closed).
 */
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome } from './types.ts';
import type { FetchedDocument } from '../disclosure/evidence.ts';
import { parseSecurityTxt } from '../disclosure/securitytxt.ts';
import { cvdSignals, mediaType, POLICY_MEDIA_TYPES, PROXIMITY, readPolicyDocument } from '../disclosure/policy-text.ts';
import { classifyContact } from './disclosure.ts';
import type { Reason } from '../errors.ts';

function fetchProblem(doc: FetchedDocument | undefined, what: string, notFound: Reason): CheckOutcome | undefined {
  if (!doc) return errorOutcome('EvidenceUnavailable', `${what} was not fetched`);
  if (doc.ok) return undefined;
  const e = doc.error ?? { reason: 'FetchFailed' as Reason, message: 'unknown failure' };
  if (e.httpStatus !== undefined && e.httpStatus >= 400 && e.httpStatus < 500) {
    return fail(notFound, `${what} ${doc.url}: HTTP ${e.httpStatus}`, { evidence: doc.url });
  }
  return errorOutcome(e.reason, `${what} ${doc.url}: ${e.message}`);
}

export const disclosureSecurityTxt: CheckDefinition = {
  id: 'disclosure.security-txt',
  title: 'security.txt published (RFC 9116)',
  // The CRA text does not name security.txt: RFC 9116 is one concrete way to publish the contact and the policy.
  cra: [],
  standards: ['RFC 9116'],
  concretises: ['Annex I Part II(5)', 'Annex I Part II(6)', 'Annex II(2)'],
  reads: 'spec.vulnerabilityHandling.securityTxt, fetched over HTTPS',
  passRule: 'served over HTTPS; at least one Contact; exactly one Expires, in the future; at least one Policy',
  fix: 'Publish /.well-known/security.txt with Contact, Policy and one Expires date within the next year, and declare its URL.',
  inForceFrom: '2027-12-11',
  run(ctx) {
    const url = ctx.release.spec.vulnerabilityHandling?.securityTxt;
    if (!url) return fail('NoSecurityTxt', 'spec.vulnerabilityHandling.securityTxt is not set', { findings: [{ pointer: '/spec/vulnerabilityHandling/securityTxt', message: 'missing' }] });
    const doc = ctx.evidence.disclosure?.securityTxt;
    const problem = fetchProblem(doc, 'security.txt', 'SecurityTxtInvalid');
    if (problem) return problem;
    const r = parseSecurityTxt(doc!.text ?? '', ctx.now);
    const evidence = doc!.digest ? `${doc!.url} ${doc!.digest}` : doc!.url;
    if (r.problems.length > 0) {
      return fail('SecurityTxtInvalid', `security.txt: ${r.problems.slice(0, 3).join('; ')}`, {
        evidence,
        findings: r.problems.map((p) => ({ pointer: '/spec/vulnerabilityHandling/securityTxt', message: p })),
      });
    }
    if (r.expired) return fail('SecurityTxtExpired', `security.txt expired at ${r.expires!.toISOString()}`, { evidence });
    return pass(`security.txt valid until ${r.expires!.toISOString()}: ${r.contact.length} contact(s), policy ${r.policy[0]}`, {
      evidence,
      changesAt: r.expires!,
    });
  },
};

export const disclosureCvdPolicy: CheckDefinition = {
  id: 'disclosure.cvd-policy',
  title: 'Coordinated vulnerability disclosure policy published',
  cra: ['Annex I Part II(5)', 'Annex II(2)'],
  standards: ['ISO/IEC 29147', 'RFC 9116'],
  reads: 'spec.vulnerabilityHandling.disclosurePolicy, fetched over HTTPS (at most 1 MiB)',
  passRule:
    'the https: URL returns (2xx after at most 5 redirects, none to a private address) a text/html, text/plain or text/markdown document about reporting vulnerabilities: a vulnerability term near a reporting verb, and a reporting channel that disclosure.contact would accept (mailto:/e-mail, a reporting URL or form) or a reference to security.txt',
  fix: 'Publish the coordinated vulnerability disclosure policy as an HTML or text page that says how to report vulnerabilities and where (e.g. "Report vulnerabilities to psirt@example.com"), and declare its URL — not the homepage.',
  inForceFrom: '2027-12-11',
  run(ctx) {
    const url = ctx.release.spec.vulnerabilityHandling?.disclosurePolicy;
    if (!url) return fail('NoDisclosurePolicy', 'spec.vulnerabilityHandling.disclosurePolicy is not set', { findings: [{ pointer: '/spec/vulnerabilityHandling/disclosurePolicy', message: 'missing' }] });
    const doc = ctx.evidence.disclosure?.disclosurePolicy;
    const problem = fetchProblem(doc, 'disclosure policy', 'DisclosurePolicyUnreachable');
    if (problem) return problem;
    const d = doc!;
    const where = d.finalUrl ?? url;
    const evidence = d.digest ? `${url} ${d.digest}` : url;
    const pointer = '/spec/vulnerabilityHandling/disclosurePolicy';
    const notAPolicy = (message: string): CheckOutcome =>
      fail('DisclosurePolicyNotAPolicy', message, { evidence, findings: [{ pointer, message }] });
    const media = mediaType(d.contentType);
    if (media === undefined || !POLICY_MEDIA_TYPES.includes(media)) {
      return notAPolicy(`disclosure policy ${where} is served as ${media ?? 'no Content-Type'}; only ${POLICY_MEDIA_TYPES.join(', ')} can be assessed — publish the policy as a web page or text`);
    }
    if (d.text === undefined) return errorOutcome('EvidenceUnavailable', `disclosure policy ${where}: the document text was not kept`);
    const signals = cvdSignals(readPolicyDocument(d.text, media, where));
    const channel = signals.channels.find((c) => classifyContact(c).ok);
    const missing: string[] = [];
    if (signals.passage === undefined) missing.push(`no statement about reporting vulnerabilities (a vulnerability term within ${PROXIMITY} characters of "report", "submit", "notify", …)`);
    if (channel === undefined && !signals.mentionsSecurityTxt) {
      missing.push(`no reporting channel (an e-mail address, a mailto: link, a reporting URL or form, or security.txt)${signals.channels.length > 0 ? `; the ${signals.channels.length} link(s) it has are not reporting channels` : ''}`);
    }
    if (missing.length > 0) return notAPolicy(`disclosure policy ${where} does not read as a coordinated vulnerability disclosure policy: ${missing.join('; ')}`);
    const via = channel ?? 'security.txt';
    return pass(`disclosure policy ${where} (HTTP ${d.status ?? 200}, ${media}) says how to report vulnerabilities ("${signals.passage!.slice(0, 160)}") and where (${via.slice(0, 80)})`, { evidence });
  },
};

/** Whether a channel document lists `version`: a JSON string value equal to it, or the version as a token in text. */
export function documentListsVersion(text: string, version: string): boolean {
  try {
    const stack: unknown[] = [JSON.parse(text)];
    let guard = 0;
    while (stack.length > 0 && guard++ < 1_000_000) {
      const v = stack.pop();
      if (typeof v === 'string' && (v === version || v === `v${version}`)) return true;
      if (Array.isArray(v)) stack.push(...(v as unknown[]));
      else if (typeof v === 'object' && v !== null) stack.push(...Object.values(v as Record<string, unknown>));
    }
    return false;
  } catch {
    const esc = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^0-9A-Za-z.])v?${esc}($|[^0-9A-Za-z])`).test(text);
  }
}

/** The update-channel probe outcome (for `update.channel` with params.probe: true); undefined when it passes. */
export function updateChannelProbe(ctx: CheckContext): CheckOutcome | undefined {
  const doc = ctx.evidence.disclosure?.updateChannel;
  const problem = fetchProblem(doc, 'update channel', 'UpdateChannelUnreachable');
  if (problem) return problem;
  if (!documentListsVersion(doc!.text ?? '', ctx.release.spec.version)) {
    return fail('UpdateChannelVersionMissing', `update channel ${doc!.url} does not list version ${ctx.release.spec.version}`, { evidence: doc!.url });
  }
  return undefined;
}
