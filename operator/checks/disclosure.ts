/**
 * disclosure.contact — the single point of contact where vulnerabilities can be reported (CRA Annex II(2),
 * Annex I Part II(6), Art. 13(17); RFC 9116 and ISO/IEC 29147 as guidance).
 * `spec.vulnerabilityHandling.contact`, else the manufacturer's email (as mailto:). A contact is acceptable when
 * it is a dedicated reporting channel: a `mailto:` with one valid address; an `https:` URL that the release's
 * own security.txt lists as Contact; or an `https:` URL whose path or host names a reporting endpoint
 * (`/security`, `/psirt`, `/vdp`, `/cvd`, `/vulnerability-disclosure`, `/.well-known/security.txt`, a host
 * `security.…`, `psirt.…`, `bugbounty.…`, `bugs.…`, or a program path on a bug-bounty platform). The bare
 * homepage (root path, or the manufacturer's website) is not; nor is an https page that names no reporting
 * endpoint (`ContactNotReportingChannel`). The same classifier judges the channels a CVD policy names
 * (disclosure.cvd-policy), so both rules agree on what a reporting channel is. See docs/disclosure.md.
 */
import { isEmailAddress } from './manufacturer.ts';
import { fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome } from './types.ts';
import { parseSecurityTxt } from '../disclosure/securitytxt.ts';

export const disclosureContact: CheckDefinition = {
  id: 'disclosure.contact',
  title: 'Point of contact for vulnerability reports',
  cra: ['Annex II(2)', 'Annex I Part II(6)', 'Art. 13(17)'],
  standards: ['RFC 9116', 'ISO/IEC 29147'],
  reads: 'spec.vulnerabilityHandling.contact, else spec.product.manufacturer.email; the Contact fields of the declared security.txt when it was fetched',
  passRule:
    'a mailto: with one valid address, or an https: URL that is a dedicated reporting channel: listed as Contact in the release\'s security.txt, or its path or host names a reporting endpoint (security, psirt, vdp, cvd, vulnerability disclosure, bug bounty, security.txt) — never the bare homepage',
  fix: 'Set spec.vulnerabilityHandling.contact to mailto:psirt@… or to the https: reporting page (e.g. https://example.com/security/report, https://security.example.com/, your bug-bounty program page) — not the homepage.',
  inForceFrom: '2027-12-11',
  run(ctx: CheckContext): CheckOutcome {
    const spec = ctx.release.spec;
    const declared = spec.vulnerabilityHandling?.contact;
    const manufacturer = spec.product?.manufacturer;
    let contact: string;
    let pointer: string;
    if (typeof declared === 'string' && declared.trim() !== '') {
      contact = declared.trim();
      pointer = '/spec/vulnerabilityHandling/contact';
    } else if (typeof manufacturer?.email === 'string' && manufacturer.email.trim() !== '') {
      contact = `mailto:${manufacturer.email.trim()}`;
      pointer = '/spec/product/manufacturer/email';
    } else {
      return fail('NoVulnerabilityContact', 'no vulnerabilityHandling.contact and no manufacturer email', {
        findings: [{ pointer: '/spec/vulnerabilityHandling/contact', message: 'missing' }],
      });
    }
    const txt = ctx.evidence.disclosure?.securityTxt;
    const listed = txt?.ok && txt.text !== undefined ? parseSecurityTxt(txt.text, ctx.now).contact : [];
    const verdict = classifyContact(contact, manufacturer?.url, listed);
    if (verdict.ok) return pass(`vulnerability reports go to ${short(contact)} (${verdict.why})`);
    return fail(verdict.reason, verdict.message, { findings: [{ pointer, message: verdict.message }] });
  },
};

export type ContactVerdict =
  | { ok: true; kind: 'mailto' | 'https'; why: string }
  | { ok: false; reason: 'InvalidContact' | 'ContactIsHomepage' | 'ContactNotReportingChannel'; message: string };

/** Bug-bounty / vulnerability-disclosure platforms: a program path on them is a reporting channel, their root is not. */
export const REPORTING_PLATFORMS: readonly string[] = ['hackerone.com', 'bugcrowd.com', 'intigriti.com', 'yeswehack.com', 'huntr.com', 'zerocopter.com', 'openbugbounty.org', 'hackenproof.com', 'federacy.com'];
/** A host label (not the top-level domain) that names a dedicated reporting site. */
const REPORTING_HOST_LABEL = /^(?:security|secure-?report|psirt|csirt|sirt|cert|vdp|cvd|disclosure|responsible-?disclosure|vulnerabilit(?:y|ies)|vulns?|vuln-?report|bug-?bounty|bounty|bugs|bug-?tracker|tracker|report|reports)$/i;
/** A path segment (or part between . _ -) that names a reporting endpoint. */
const REPORTING_PATH = /(?:^|[/._-])(?:security|psirt|csirt|sirt|cert|vdp|cvd|vulnerabilit(?:y|ies)|vulns?|disclos(?:e|ure|ures)|bug-?bount(?:y|ies)|bounty|advisor(?:y|ies)|responsible-disclosure)(?:[/._-]|$)/i;

function normalizeContact(c: string): string {
  const t = c.trim();
  if (/^mailto:/i.test(t)) return `mailto:${t.slice(7).split('?')[0]!.toLowerCase()}`;
  try {
    const u = new URL(t);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`.toLowerCase();
  } catch {
    return t.toLowerCase();
  }
}

/**
 * Whether `contact` is a dedicated vulnerability reporting channel. `listed`: the Contact fields of the
 * release's security.txt (RFC 9116), which designate reporting channels whatever their URL looks like.
 */
export function classifyContact(contact: string, manufacturerUrl?: string, listed: readonly string[] = []): ContactVerdict {
  const inSecurityTxt = listed.some((l) => normalizeContact(l) === normalizeContact(contact));
  if (/^mailto:/i.test(contact)) {
    const rest = contact.slice('mailto:'.length);
    const addressPart = rest.split('?')[0] ?? '';
    let address: string;
    try {
      address = decodeURIComponent(addressPart);
    } catch {
      return { ok: false, reason: 'InvalidContact', message: `contact ${short(contact)} is not a valid mailto:` };
    }
    if (address.includes(',') || !isEmailAddress(address)) {
      return { ok: false, reason: 'InvalidContact', message: `contact ${short(contact)} has no single valid email address` };
    }
    return { ok: true, kind: 'mailto', why: inSecurityTxt ? 'an email address, listed in security.txt' : 'an email address' };
  }
  if (!contact.includes(':') && isEmailAddress(contact)) {
    return { ok: false, reason: 'InvalidContact', message: `contact ${short(contact)} lacks a scheme; use mailto:${short(contact)}` };
  }
  let url: URL;
  try {
    url = new URL(contact);
  } catch {
    return { ok: false, reason: 'InvalidContact', message: `contact ${short(contact)} is neither mailto: nor an https: URL` };
  }
  if (url.protocol !== 'https:' || url.hostname === '') {
    return { ok: false, reason: 'InvalidContact', message: `contact ${short(contact)} must be mailto: or https:` };
  }
  if (inSecurityTxt) return { ok: true, kind: 'https', why: 'listed as Contact in security.txt' };
  if (manufacturerUrl !== undefined && sameUrl(url, manufacturerUrl)) {
    return { ok: false, reason: 'ContactIsHomepage', message: `contact ${short(contact)} is the manufacturer homepage, not a reporting channel` };
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const root = url.pathname === '' || url.pathname === '/';
  const platform = REPORTING_PLATFORMS.find((p) => host === p || host.endsWith(`.${p}`));
  if (platform) {
    return root
      ? { ok: false, reason: 'ContactIsHomepage', message: `contact ${short(contact)} is the homepage of ${platform}, not the manufacturer's program on it` }
      : { ok: true, kind: 'https', why: `a program on ${platform}` };
  }
  if (REPORTING_PATH.test(decodeURIComponent(url.pathname))) return { ok: true, kind: 'https', why: 'a reporting page' };
  const labels = host.split('.');
  const label = labels.slice(0, -1).find((l) => REPORTING_HOST_LABEL.test(l));
  if (label !== undefined) return { ok: true, kind: 'https', why: `a dedicated reporting site (${host})` };
  if (root) return { ok: false, reason: 'ContactIsHomepage', message: `contact ${short(contact)} is a homepage, not a reporting page` };
  return {
    ok: false,
    reason: 'ContactNotReportingChannel',
    message: `contact ${short(contact)} is not recognisably a vulnerability reporting channel: use mailto:, a Contact of your security.txt, or a URL whose path or host names it (…/security, …/psirt, …/vdp, security.<domain>, a bug-bounty program)`,
  };
}

function sameUrl(a: URL, other: string): boolean {
  let b: URL;
  try {
    b = new URL(other);
  } catch {
    return false;
  }
  const norm = (u: URL): string => `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`.toLowerCase();
  return norm(a) === norm(b);
}

function short(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
