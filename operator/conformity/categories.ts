/**
 * Product categories of the Cyber Resilience Act (Regulation (EU) 2024/2847) that decide the conformity
 * assessment route (Art. 32):
 * - Annex III, class I and class II: "important products with digital elements" (Art. 7(1)); a product is one
 *   when its CORE FUNCTIONALITY is that of a listed category (Art. 7(1); integrating such a product as a component
 *   does not by itself make the integrating product important).
 * - Annex IV: "critical products with digital elements" (Art. 8(1)).
 * - `default`: every other product with digital elements.
 *
 * The titles follow the wording of Annex III and Annex IV; the technical description of each category is laid
 * down in Commission Implementing Regulation (EU) 2025/2392 of 28 November 2025 (OJ L, 2025/2392, 1.12.2025),
 * adopted under Art. 7(4), whose Annex describes the categories in the same order. The ids are stable API (the
 * CRD enum of `spec.product.category`); `ref` is the point of the Annex.
 */

export type ProductClass = 'default' | 'important-class-i' | 'important-class-ii' | 'critical';

export interface ProductCategory {
  readonly id: string;
  readonly cls: ProductClass;
  /** e.g. `Annex III Class I(12)`. */
  readonly ref: string;
  readonly title: string;
}

const I = (n: number, id: string, title: string): ProductCategory => ({ id, cls: 'important-class-i', ref: `Annex III Class I(${n})`, title });
const II = (n: number, id: string, title: string): ProductCategory => ({ id, cls: 'important-class-ii', ref: `Annex III Class II(${n})`, title });
const IV = (n: number, id: string, title: string): ProductCategory => ({ id, cls: 'critical', ref: `Annex IV(${n})`, title });

export const PRODUCT_CATEGORIES: readonly ProductCategory[] = [
  { id: 'default', cls: 'default', ref: 'Art. 32(1)', title: 'Product with digital elements not listed in Annex III or Annex IV' },
  I(1, 'identity-access-management', 'Identity management systems and privileged access management software and hardware, including authentication and access control readers, including biometric readers'),
  I(2, 'browser', 'Standalone and embedded browsers'),
  I(3, 'password-manager', 'Password managers'),
  I(4, 'anti-malware', 'Software that searches for, removes, or quarantines malicious software'),
  I(5, 'vpn', 'Products with digital elements with the function of virtual private network (VPN)'),
  I(6, 'network-management-system', 'Network management systems'),
  I(7, 'siem', 'Security information and event management (SIEM) systems'),
  I(8, 'boot-manager', 'Boot managers'),
  I(9, 'pki-certificate-issuance', 'Public key infrastructure and digital certificate issuance software'),
  I(10, 'network-interface', 'Physical and virtual network interfaces'),
  I(11, 'operating-system', 'Operating systems'),
  I(12, 'router-modem-switch', 'Routers, modems intended for the connection to the internet, and switches'),
  I(13, 'microprocessor-security', 'Microprocessors with security-related functionalities'),
  I(14, 'microcontroller-security', 'Microcontrollers with security-related functionalities'),
  I(15, 'asic-fpga-security', 'Application specific integrated circuits (ASIC) and field-programmable gate arrays (FPGA) with security-related functionalities'),
  I(16, 'smart-home-virtual-assistant', 'Smart home general purpose virtual assistants'),
  I(17, 'smart-home-security', 'Smart home products with security functionalities, including smart door locks, security cameras, baby monitoring systems and alarm systems'),
  I(18, 'connected-toy', 'Internet connected toys covered by Directive 2009/48/EC that have social interactive features or location tracking features'),
  I(19, 'personal-wearable', 'Personal wearable products with a health monitoring purpose not covered by Regulation (EU) 2017/745 or (EU) 2017/746, or intended for use by and for children'),
  II(1, 'hypervisor-container-runtime', 'Hypervisors and container runtime systems that support virtualised execution of operating systems and similar environments'),
  II(2, 'firewall-ids-ips', 'Firewalls, intrusion detection and prevention systems'),
  II(3, 'tamper-resistant-microprocessor', 'Tamper-resistant microprocessors'),
  II(4, 'tamper-resistant-microcontroller', 'Tamper-resistant microcontrollers'),
  IV(1, 'hardware-security-box', 'Hardware Devices with Security Boxes'),
  IV(2, 'smart-meter-gateway', 'Smart meter gateways within smart metering systems as defined in Article 2, point (23) of Directive (EU) 2019/944 and other devices for advanced security purposes, including for secure cryptoprocessing'),
  IV(3, 'smartcard-secure-element', 'Smartcards or similar devices, including secure elements'),
];

const BY_ID: ReadonlyMap<string, ProductCategory> = new Map(PRODUCT_CATEGORIES.map((c) => [c.id, c]));

export function productCategory(id: unknown): ProductCategory | undefined {
  return typeof id === 'string' ? BY_ID.get(id) : undefined;
}

export const CLASS_LABEL: Readonly<Record<ProductClass, string>> = {
  default: 'default (not in Annex III or IV)',
  'important-class-i': 'important, class I (Annex III)',
  'important-class-ii': 'important, class II (Annex III)',
  critical: 'critical (Annex IV)',
};

/** Conformity assessment procedures of Art. 32 (Annex VIII modules, or a European cybersecurity certificate). */
export const CONFORMITY_MODULES = ['A', 'B+C', 'H', 'EUCC'] as const;
export type ConformityModule = (typeof CONFORMITY_MODULES)[number];

export const MODULE_LABEL: Readonly<Record<ConformityModule, string>> = {
  A: 'Module A — internal control (Annex VIII Part I)',
  'B+C': 'Module B + C — EU-type examination + conformity to type (Annex VIII Parts II and III)',
  H: 'Module H — full quality assurance (Annex VIII Part IV)',
  EUCC: 'European cybersecurity certificate under a scheme adopted pursuant to Regulation (EU) 2019/881 (Art. 27(9), Art. 32)',
};
