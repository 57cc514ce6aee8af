/**
 * disclosure.contact — Annex I Part II(5),(6), Art. 13(17): a single point of contact where vulnerabilities
 * can be reported. `spec.vulnerabilityHandling.contact`, else the manufacturer's email (as mailto:). It must
 * be a `mailto:` with one valid address or an `https:` URL; a plain homepage is not a point of contact.
 */
import { isEmailAddress } from './manufacturer.ts';
import { fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome } from './types.ts';

export const disclosureContact: CheckDefinition = {
  id: 'disclosure.contact',
  title: 'Point of contact for vulnerability reports',
  cra: ['Annex I Part II(5)', 'Annex I Part II(6)', 'Art. 13(17)'],
  standards: ['RFC 9116'],
  reads: 'spec.vulnerabilityHandling.contact, else spec.product.manufacturer.email',
  passRule: 'a mailto: with a valid address, or an https: URL that is not a plain homepage',
  fix: 'Set spec.vulnerabilityHandling.contact to mailto:psirt@… or an https: reporting page (not the homepage).',
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
    const verdict = classifyContact(contact, manufacturer?.url);
    if (verdict.ok) return pass(`vulnerability reports go to ${short(contact)}`);
    return fail(verdict.reason, verdict.message, { findings: [{ pointer, message: verdict.message }] });
  },
};

export type ContactVerdict =
  | { ok: true; kind: 'mailto' | 'https' }
  | { ok: false; reason: 'InvalidContact' | 'ContactIsHomepage'; message: string };

export function classifyContact(contact: string, manufacturerUrl?: string): ContactVerdict {
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
    return { ok: true, kind: 'mailto' };
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
  if (url.pathname === '' || url.pathname === '/') {
    return { ok: false, reason: 'ContactIsHomepage', message: `contact ${short(contact)} is a homepage, not a reporting page` };
  }
  if (manufacturerUrl !== undefined && sameUrl(url, manufacturerUrl)) {
    return { ok: false, reason: 'ContactIsHomepage', message: `contact ${short(contact)} is the manufacturer website` };
  }
  return { ok: true, kind: 'https' };
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
