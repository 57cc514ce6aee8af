/**
 * Semantic validation of a ReleasePolicy spec (the CRD schema catches most of this at admission; the CLI
 * reads YAML files directly, so the engine re-checks). Returns human problems with field paths; empty = valid.
 */
import { CHECK_ID_PATTERN } from '../api/types.ts';
import { parseDay } from '../util/dates.ts';
import { tryParseDuration } from './duration.ts';
import { SBOM_MAX_BYTES_CEILING } from '../sbom/parse.ts';

const MAX_PROBLEMS = 5;

export function validatePolicySpec(spec: unknown): string[] {
  const problems: string[] = [];
  if (typeof spec !== 'object' || spec === null) return ['spec: must be an object'];
  const s = spec as Record<string, unknown>;
  const checks = s.checks;
  if (!Array.isArray(checks)) return ['spec.checks: must be a list'];
  const ids = new Set<string>();
  let enabled = 0;
  checks.forEach((raw: unknown, i) => {
    const at = `spec.checks[${i}]`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${at}: must be an object`);
      return;
    }
    const e = raw as Record<string, unknown>;
    if (typeof e.id !== 'string' || !CHECK_ID_PATTERN.test(e.id)) {
      problems.push(`${at}.id: ${JSON.stringify(e.id)} is not a check id like "update.channel"`);
    } else if (ids.has(e.id)) {
      problems.push(`${at}.id: duplicate "${e.id}"`);
    } else ids.add(e.id);
    if (e.enforcement !== undefined && e.enforcement !== 'Block' && e.enforcement !== 'Warn' && e.enforcement !== 'Off') {
      problems.push(`${at}.enforcement: ${JSON.stringify(e.enforcement)} is not Block, Warn or Off`);
    }
    if (e.enforcement !== 'Off') enabled++;
    if (e.effectiveFrom !== undefined && !parseDay(e.effectiveFrom)) {
      problems.push(`${at}.effectiveFrom: ${JSON.stringify(e.effectiveFrom)} is not a YYYY-MM-DD date`);
    }
    if (e.params !== undefined && (typeof e.params !== 'object' || e.params === null || Array.isArray(e.params))) {
      problems.push(`${at}.params: must be an object`);
    }
  });
  if (checks.length > 0 && enabled === 0) problems.push('spec.checks: every check is Off; the policy would approve anything');
  if (checks.length === 0) problems.push('spec.checks: empty; the policy would approve anything');
  if (s.reevaluateEvery !== undefined && tryParseDuration(s.reevaluateEvery) === undefined) {
    problems.push(`spec.reevaluateEvery: ${JSON.stringify(s.reevaluateEvery)} is not a duration like 6h or 1h30m`);
  }
  if (s.limits !== undefined) {
    if (typeof s.limits !== 'object' || s.limits === null || Array.isArray(s.limits)) problems.push('spec.limits: must be an object');
    else {
      const v = (s.limits as Record<string, unknown>).sbomMaxBytes;
      if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1024 || v > SBOM_MAX_BYTES_CEILING)) {
        problems.push(`spec.limits.sbomMaxBytes: ${JSON.stringify(v)} is not an integer from 1024 to ${SBOM_MAX_BYTES_CEILING} (the analysis worker's heap bounds it)`);
      }
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}
