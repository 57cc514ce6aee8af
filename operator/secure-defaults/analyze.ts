/**
 * The secure-defaults analysis: Pod Security Standards, hardening, default credentials and the JSON Schema
 * configuration rules over the shipped manifests and settings. Pure; one finding per rule, object and
 * JSON pointer.
 */
import { scanManifest, scanSettings } from './credentials.ts';
import { checkHardening, HARDENING_RULES, serviceAccountAutomount } from './hardening.ts';
import { checkPodSecurity, podSpecOf } from './pss.ts';
import type { PssLevel } from './pss.ts';
import { applyRules } from './rules.ts';
import type { CompiledRule } from './rules.ts';
import type { FindingCategory, ManifestDoc, SecureDefaultsFinding, SettingsFile } from './types.ts';
import { pointerSegment } from '../util/json-pointer.ts';

export const PSS_CRA = ['Annex I Part I(2)(b)', 'Annex I Part I(2)(j)'];
export const CREDENTIALS_CRA = ['Annex I Part I(2)(b)', 'Annex I Part I(2)(d)', 'Annex I Part I(2)(e)'];

export interface AnalyzeInput {
  readonly manifests: readonly ManifestDoc[];
  readonly settings: readonly SettingsFile[];
  readonly rules: readonly CompiledRule[];
  readonly level?: PssLevel;
  /** Rule ids, or `prefix.*`, not to report. */
  readonly disabledRules?: readonly string[];
}

export function ruleDisabled(rule: string, disabled: readonly string[]): boolean {
  return disabled.some((d) => d === rule || (d.endsWith('.*') && rule.startsWith(d.slice(0, -1))));
}

export function objectName(d: ManifestDoc): string {
  return `${d.kind}/${d.name}`;
}

export function analyze(input: AnalyzeInput): SecureDefaultsFinding[] {
  const level = input.level ?? 'restricted';
  const disabled = input.disabledRules ?? [];
  const out: SecureDefaultsFinding[] = [];
  const add = (f: SecureDefaultsFinding): void => {
    if (!ruleDisabled(f.rule, disabled)) out.push(f);
  };
  const serviceAccounts = serviceAccountAutomount(input.manifests);

  for (const d of input.manifests) {
    const base = `/manifests/${d.index}`;
    const object = objectName(d);
    const loc = podSpecOf(d);
    if (loc) {
      for (const v of checkPodSecurity(loc, level)) {
        add({ rule: v.rule, category: 'pod-security', object, pointer: base + v.pointer, message: `${object}: ${v.message} (Pod Security ${v.level})`, cra: PSS_CRA });
      }
    }
    for (const v of checkHardening(d, serviceAccounts)) {
      add({ rule: v.rule, category: 'hardening', object, pointer: base + v.pointer, message: `${object}: ${v.message}`, cra: HARDENING_RULES[v.rule].cra });
    }
    for (const v of scanManifest(d)) {
      add({ rule: v.rule, category: 'credentials', object, pointer: base + v.pointer, message: `${object}: ${v.message}`, cra: CREDENTIALS_CRA });
    }
  }

  for (const f of input.settings) {
    const base = `/settings/${pointerSegment(f.name)}`;
    const object = `settings:${f.name}`;
    for (const v of scanSettings(f.data)) {
      add({ rule: v.rule, category: 'credentials', object, pointer: base + v.pointer, message: `${object}: ${v.message}`, cra: CREDENTIALS_CRA });
    }
  }

  for (const v of applyRules(input.rules, input.manifests, input.settings)) {
    const category: FindingCategory = v.rule.startsWith('settings.') ? 'settings' : 'rule';
    add({ rule: v.rule, category, object: v.object, pointer: v.pointer, message: `${v.object}: ${v.message}`, cra: v.cra, ...(v.standards.length > 0 ? { standards: v.standards } : {}) });
  }
  return out;
}
