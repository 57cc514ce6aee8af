/**
 * Shared types of the secure-defaults analysis (config.secure-defaults): the parsed evidence and the
 * findings. Pure data; no IO.
 */

/** One Kubernetes object of the shipped manifests. */
export interface ManifestDoc {
  /** Position in the flattened document stream (all files, in order); the first pointer segment. */
  readonly index: number;
  /** The file the document came from (ConfigMap key or URL). */
  readonly file: string;
  /** Position inside that file's YAML stream. */
  readonly position: number;
  /** The parsed object (a plain JSON tree: aliases expanded, timestamps as strings). */
  readonly object: Record<string, unknown>;
  readonly apiVersion: string;
  readonly kind: string;
  /** `metadata.name` (or `?`). */
  readonly name: string;
}

/** One settings file (JSON or YAML). */
export interface SettingsFile {
  /** ConfigMap key or URL path name; the segment after `/settings/` in pointers. */
  readonly name: string;
  readonly data: unknown;
}

/** A user-extensible rule as it was read (validated when the check runs). */
export interface RuleSource {
  /** Where it came from, e.g. `builtin:settings-tls.yaml` or `configmap:cra-gate/my-rules/deny.yaml`. */
  readonly origin: string;
  readonly document: unknown;
}

/** What the collector hands to config.secure-defaults. */
export interface SecureDefaultsEvidence {
  /** Whether the release declares spec.secureDefaults.manifests / .settings. */
  readonly declared: { readonly manifests: boolean; readonly settings: boolean };
  readonly manifests?: {
    readonly documents: readonly ManifestDoc[];
    /** `sha256:<hex>` over what was read (all files, in order). */
    readonly digest: string;
  };
  readonly settings?: {
    readonly files: readonly SettingsFile[];
    readonly digest: string;
  };
  /** Built-in rules (policies/rules) and extra rule sets named by the policy. */
  readonly rules: readonly RuleSource[];
}

export type FindingCategory = 'pod-security' | 'hardening' | 'credentials' | 'settings' | 'rule';

export interface SecureDefaultsFinding {
  /** Stable rule id, e.g. `pss.privileged`, `credentials.private-key`, `settings.tls-enabled`. */
  readonly rule: string;
  readonly category: FindingCategory;
  /** `Kind/name` for manifests, `settings:<file>` for settings. */
  readonly object: string;
  /** RFC 6901 pointer: `/manifests/<index>/...` or `/settings/<file>/...`. */
  readonly pointer: string;
  /** What is wrong (never contains a secret value). */
  readonly message: string;
  /** CRA references: what the Regulation's own text requires. */
  readonly cra: readonly string[];
  /** Guidelines/standards that make the rule concrete (ETSI EN 303 645, Pod Security Standards, …). */
  readonly standards?: readonly string[];
}

