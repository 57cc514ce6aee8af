/**
 * Drafts of the three Art. 14 notifications for every actively exploited vulnerability affecting the release
 * (status.exploited: CISA KEV, not resolved by VEX), each with the fields Art. 14(2) asks for, filled where the
 * gate knows them and marked "to be provided" otherwise, and its deadline:
 * - early warning (Art. 14(2)(a)): without undue delay and within 24 hours of becoming aware;
 * - vulnerability notification (Art. 14(2)(b)): within 72 hours of becoming aware;
 * - final report (Art. 14(2)(c)): no later than 14 days after a corrective or mitigating measure is available.
 * All three go, through the single reporting platform (Art. 16), to the CSIRT designated as coordinator and to
 * ENISA (Art. 14(1)). "Becoming aware" is when the gate first saw the vulnerability affect the release
 * (`knownSince`); the manufacturer's own awareness may be earlier, which the draft says.
 */
import type { ExploitedVulnerability, ProductRelease } from '../api/types.ts';
import type { Evidence } from '../checks/types.ts';
import type { Field } from './model.ts';

export interface Art14Report {
  readonly kind: 'early-warning' | 'vulnerability-notification' | 'final-report';
  readonly ref: string;
  readonly title: string;
  /** RFC 3339, or undefined when it depends on an event the gate does not know (the corrective measure). */
  readonly due?: string;
  readonly dueRule: string;
  readonly fields: readonly Field[];
}

export interface Art14Draft {
  readonly vulnerability: string;
  readonly knownSince: string;
  readonly advisories: readonly string[];
  readonly components: readonly string[];
  readonly reports: readonly Art14Report[];
}

const f = (label: string, ref: string, value?: string, source?: string): Field =>
  value !== undefined && value !== '' ? { label, ref, value, ...(source ? { source } : {}), toBeProvided: false } : { label, ref, toBeProvided: true };

export function buildArt14Drafts(input: { release: ProductRelease; exploited: readonly ExploitedVulnerability[]; evidence: Evidence; now: Date }): Art14Draft[] {
  const { release, exploited } = input;
  const product = `${release.spec.product.name} ${release.spec.version}`;
  const manufacturer = release.spec.product.manufacturer?.name;
  return exploited.map((x) => {
    const comps = x.components ?? [];
    const advisories = x.advisories ?? [];
    const source = `CISA KEV ${x.vulnerability}; advisories ${advisories.join(', ') || '—'}`;
    const common = [
      f('Manufacturer', 'Art. 14(1)', manufacturer, 'spec.product.manufacturer.name'),
      f('Product with digital elements', 'Art. 14(2)(b)', product, 'spec.product, spec.version'),
      f('Vulnerability', 'Art. 14(1)', x.vulnerability, source),
      f('Affected components', 'Art. 14(2)(b)', comps.join('\n'), 'SBOM match'),
    ];
    return {
      vulnerability: x.vulnerability,
      knownSince: x.knownSince,
      advisories,
      components: comps,
      reports: [
        {
          kind: 'early-warning',
          ref: 'Art. 14(2)(a)',
          title: 'Early warning notification',
          due: x.earlyWarningDue,
          dueRule: 'within 24 hours of becoming aware (from knownSince; earlier if the manufacturer knew before the gate)',
          fields: [
            ...common,
            f('Actively exploited', 'Art. 14(2)(a)', `yes: listed in the CISA Known Exploited Vulnerabilities catalogue (${x.vulnerability})`, source),
            f('Member States where the product has been made available (where applicable)', 'Art. 14(2)(a)'),
          ],
        },
        {
          kind: 'vulnerability-notification',
          ref: 'Art. 14(2)(b)',
          title: 'Vulnerability notification',
          due: x.notificationDue,
          dueRule: 'within 72 hours of becoming aware',
          fields: [
            ...common,
            f('General nature of the exploit and of the vulnerability', 'Art. 14(2)(b)'),
            f('Corrective or mitigating measures taken', 'Art. 14(2)(b)'),
            f('Corrective or mitigating measures users can take', 'Art. 14(2)(b)'),
            f('How sensitive the manufacturer deems the notified information (where applicable)', 'Art. 14(2)(b)'),
          ],
        },
        {
          kind: 'final-report',
          ref: 'Art. 14(2)(c)',
          title: 'Final report',
          dueRule: 'no later than 14 days after a corrective or mitigating measure is available',
          fields: [
            ...common,
            f('Description of the vulnerability, including its severity and impact', 'Art. 14(2)(c)(i)'),
            f('Information on any malicious actor that has exploited or is exploiting it (where available)', 'Art. 14(2)(c)(ii)'),
            f('Details of the security update or other corrective measures made available', 'Art. 14(2)(c)(iii)'),
          ],
        },
      ],
    };
  });
}
