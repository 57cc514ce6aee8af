/**
 * config.secure-defaults — CRA Annex I Part I(2)(b) secure by default configuration, (d) protection from
 * unauthorised access, (e) confidentiality, (j) limited attack surface.
 *
 * Reads the shipped manifests and settings collected from spec.secureDefaults (see
 * ../evidence/secure-defaults.ts) and reports one finding per rule, object and JSON pointer:
 *  - the Pod Security Standards (restricted by default; `params.podSecurityLevel: baseline` to relax),
 *    exactly as the PodSecurity admission controller evaluates Pods and pod templates;
 *  - hardening: read-only root filesystem, resource requests/limits, no default service account token,
 *    no RBAC wildcards, NodePort/LoadBalancer only when declared as intended;
 *  - default credentials: default passwords, private keys, tokens (patterns + entropy);
 *  - configuration rules (JSON Schema): the built-in settings rules from policies/rules/ (TLS on,
 *    authentication on, debug off, telemetry opt-in, and the classic device defaults: no cleartext admin
 *    interfaces, admin services not on all interfaces or the WAN side, no empty passwords, encrypted Wi-Fi, WPS
 *    and UPnP off, debug interfaces off, no SSH root login with a password — over the settings vocabulary of
 *    docs/secure-defaults.md), rule ConfigMaps named by `params.ruleConfigMaps`, and inline `params.rules`.
 *    Each rule carries its CRA text (`cra`) and, apart, the guidance that makes it concrete (`standards`).
 * A release that declares no secureDefaults fails (NoSecureDefaults); evidence that could not be read or
 * parsed makes the check Error (fail closed).
 */
import { analyze } from '../secure-defaults/analyze.ts';
import type { PssLevel } from '../secure-defaults/pss.ts';
import { compileRules } from '../secure-defaults/rules.ts';
import type { FindingCategory, RuleSource, SecureDefaultsFinding } from '../secure-defaults/types.ts';
import type { Reason } from '../errors.ts';
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome } from './types.ts';

/** Findings handed back per evaluation (the status only carries the message; the CLI prints findings). */
export const MAX_FINDINGS = 1_000;

/** The reason of a failing outcome: the most serious category present. */
const REASON_ORDER: readonly [FindingCategory, Reason][] = [
  ['credentials', 'DefaultCredentials'],
  ['pod-security', 'PodSecurityViolation'],
  ['settings', 'InsecureSettings'],
  ['rule', 'InsecureSettings'],
  ['hardening', 'InsecureManifests'],
];

const CATEGORY_LABEL: Record<FindingCategory, string> = {
  credentials: 'default credentials',
  'pod-security': 'Pod Security',
  settings: 'settings',
  rule: 'configuration rules',
  hardening: 'hardening',
};

interface Params {
  level: PssLevel;
  disabledRules: string[];
  inlineRules: RuleSource[];
}

function readParams(params: Readonly<Record<string, unknown>>): Params | string {
  const level = params.podSecurityLevel ?? 'restricted';
  if (level !== 'restricted' && level !== 'baseline') return 'params.podSecurityLevel must be "restricted" or "baseline"';
  const disabled = params.disabledRules ?? [];
  if (!Array.isArray(disabled) || !disabled.every((d) => typeof d === 'string')) return 'params.disabledRules must be a list of rule ids';
  const rules = params.rules ?? [];
  if (!Array.isArray(rules)) return 'params.rules must be a list of rule documents';
  return {
    level,
    disabledRules: disabled,
    inlineRules: rules.map((document: unknown, i) => ({ origin: `params.rules[${i}]`, document })),
  };
}

function summarize(findings: readonly SecureDefaultsFinding[]): string {
  const counts = new Map<FindingCategory, number>();
  for (const f of findings) counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
  const objects = new Set(findings.map((f) => f.object)).size;
  const parts = REASON_ORDER.filter(([c], i, all) => counts.has(c) && all.findIndex(([x]) => x === c) === i)
    .map(([c]) => `${counts.get(c)} ${CATEGORY_LABEL[c]}`);
  const first = findings[0];
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} in ${objects} object${objects === 1 ? '' : 's'} (${parts.join(', ')}); first: ${first ? `[${first.rule}] ${first.message}` : ''}`;
}

export const configSecureDefaults: CheckDefinition = {
  id: 'config.secure-defaults',
  title: 'Secure by default configuration',
  cra: ['Annex I Part I(2)(b)', 'Annex I Part I(2)(d)', 'Annex I Part I(2)(e)', 'Annex I Part I(2)(j)'],
  standards: ['Kubernetes Pod Security Standards (restricted, latest)', 'ETSI EN 303 645 V2.1.1 (device settings rules; provisions per rule)'],
  reads: 'spec.secureDefaults.manifests and .settings (ConfigMap or https URL with digest); policies/rules and params rules',
  passRule:
    'manifests meet Pod Security "restricted" and the hardening rules, no default credentials anywhere, and every configuration rule holds (TLS on, authentication on, debug off, telemetry opt-in; no Telnet/FTP/plain-HTTP admin, admin services only on loopback/LAN, no empty passwords, WPA2/WPA3 Wi-Fi, WPS, UPnP and debug interfaces off, no SSH root password login; user rules) — an unrecognised value for a known setting is a finding',
  fix: 'Fix each finding at its JSON pointer in the shipped defaults (e.g. the chart default values), or declare an intended exposure with the cra-gate.dev/intended-exposure annotation.',
  inForceFrom: '2027-12-11',
  params: ['podSecurityLevel', 'disabledRules', 'rules', 'ruleConfigMaps'],
  run(ctx: CheckContext): CheckOutcome {
    const params = readParams(ctx.params);
    if (typeof params === 'string') return errorOutcome('InvalidCheckParams', params);

    const declared = ctx.release.spec.secureDefaults;
    if (!declared || (!declared.manifests && !declared.settings)) {
      return fail('NoSecureDefaults', 'spec.secureDefaults is not set: declare the manifests and/or settings the product ships with', {
        findings: [{ pointer: '/spec/secureDefaults', message: 'no shipped manifests or settings declared' }],
      });
    }

    const errs = (ctx.evidence.errors ?? []).filter((e) => e.source.startsWith('secureDefaults'));
    if (errs.length > 0) {
      const more = errs.length > 1 ? ` (+${errs.length - 1} more)` : '';
      return errorOutcome(errs[0]!.reason, `${errs[0]!.message}${more}`);
    }
    const ev = ctx.evidence.secureDefaults;
    if (!ev) return errorOutcome('EvidenceUnavailable', 'the shipped manifests and settings were not collected');
    if ((declared.manifests && !ev.manifests) || (declared.settings && !ev.settings)) {
      return errorOutcome('EvidenceUnavailable', 'declared secureDefaults were not collected');
    }

    const loaded = compileRules([...ev.rules, ...params.inlineRules]);
    if (loaded.errors.length > 0) {
      const more = loaded.errors.length > 1 ? ` (+${loaded.errors.length - 1} more)` : '';
      return errorOutcome('InvalidRule', `${loaded.errors[0]!}${more}`);
    }

    const manifests = ev.manifests?.documents ?? [];
    const settings = ev.settings?.files ?? [];
    const findings = analyze({ manifests, settings, rules: loaded.rules, level: params.level, disabledRules: params.disabledRules });
    const digests = [ev.manifests?.digest, ev.settings?.digest].filter((d): d is string => typeof d === 'string');
    const evidence = digests.length > 0 ? { evidence: digests.join(' ') } : {};

    if (findings.length === 0) {
      return pass(
        `${manifests.length} object${manifests.length === 1 ? '' : 's'} and ${settings.length} settings file${settings.length === 1 ? '' : 's'} meet Pod Security ${params.level}, hardening, credential and ${loaded.rules.length} configuration rules`,
        evidence,
      );
    }
    const reason = REASON_ORDER.find(([c]) => findings.some((f) => f.category === c))?.[1] ?? 'InsecureManifests';
    const kept = findings.slice(0, MAX_FINDINGS);
    return fail(reason, summarize(findings), {
      ...evidence,
      findings: kept.map((f) => ({ pointer: f.pointer, message: `[${f.rule}] ${f.message}`, rule: f.rule, object: f.object })),
    });
  },
};
