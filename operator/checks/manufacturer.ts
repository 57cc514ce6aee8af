/**
 * manufacturer.identity — Annex II(1): the name, registered trade name or trade mark of the manufacturer, the
 * postal address, the email address or other digital contact and, where available, the website.
 */
import { isBlank, fail, pass } from './types.ts';
import type { CheckDefinition, CheckOutcome, CheckContext, Finding } from './types.ts';
import type { Reason } from '../errors.ts';

const BASE = '/spec/product/manufacturer';

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/.test(value);
}

export function isWebUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export const manufacturerIdentity: CheckDefinition = {
  id: 'manufacturer.identity',
  title: 'Manufacturer identity and contact',
  cra: ['Annex II(1)'],
  standards: [],
  reads: 'spec.product.manufacturer',
  passRule: 'name, postal address, and a valid email or URL are present',
  fix: 'Set spec.product.manufacturer.name, .address (postal) and .email or .url.',
  inForceFrom: '2027-12-11',
  run(ctx: CheckContext): CheckOutcome {
    const m = ctx.release.spec.product?.manufacturer ?? {};
    const problems: { reason: Reason; finding: Finding }[] = [];
    if (isBlank(m.name)) {
      problems.push({ reason: 'MissingManufacturerName', finding: { pointer: `${BASE}/name`, message: 'name is missing' } });
    }
    if (isBlank(m.address)) {
      problems.push({
        reason: 'MissingPostalAddress',
        finding: { pointer: `${BASE}/address`, message: 'postal address is missing' },
      });
    }
    const email = typeof m.email === 'string' ? m.email.trim() : '';
    const url = typeof m.url === 'string' ? m.url.trim() : '';
    const emailOk = email !== '' && isEmailAddress(email);
    const urlOk = url !== '' && isWebUrl(url);
    if (!emailOk && !urlOk) {
      let message = 'neither email nor url is set';
      let pointer = `${BASE}/email`;
      if (email !== '') message = `email "${email}" is not a valid address and no valid url is set`;
      else if (url !== '') {
        message = `url "${url}" is not an http(s) URL and no email is set`;
        pointer = `${BASE}/url`;
      }
      problems.push({ reason: 'MissingContactChannel', finding: { pointer, message } });
    }
    if (problems.length === 0) return pass(`manufacturer ${m.name!.trim()} identified with postal address and contact`);
    const findings = problems.map((p) => p.finding);
    if (problems.length === 1) {
      const only = problems[0]!;
      return fail(only.reason, `manufacturer ${only.finding.message}`, { findings });
    }
    return fail('IncompleteManufacturerIdentity', `manufacturer: ${findings.map((f) => f.message).join('; ')}`, {
      findings,
    });
  },
};
