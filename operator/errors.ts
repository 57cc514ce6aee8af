/**
 * The one catalogue of stable codes used by cra-gate.
 *
 * Every entry's key IS its `reason`: a CamelCase word used verbatim as a Kubernetes condition reason, an
 * Event reason and a Prometheus label value. The set is closed and small, so labels stay bounded; renaming a
 * reason is an API change.
 *
 * - `kind: 'ok'`        — a passing outcome (check passed, all checks passed).
 * - `kind: 'violation'` — a check found the release non-compliant; the release owner must act.
 * - `kind: 'error'`     — something went wrong while evaluating; `retryable` says whether backing off and
 *                          retrying can help (transient) or a human must change something (terminal).
 *
 * Style after fastify's coded errors: `craError('PolicyNotFound', 'no ReleasePolicy "x"')` builds a
 * `CraGateError` carrying the code, the summary-derived defaults and the cause.
 */
import { redactUrls } from './util/redact.ts';

export type ReasonKind = 'ok' | 'violation' | 'error';

export interface ReasonEntry {
  /** Short human explanation of the code (not the per-instance message). */
  readonly summary: string;
  readonly kind: ReasonKind;
  /** Transient: retry with backoff. Terminal: retrying without a change cannot help. */
  readonly retryable: boolean;
}

const ok = (summary: string): ReasonEntry => ({ summary, kind: 'ok', retryable: false });
const violation = (summary: string): ReasonEntry => ({ summary, kind: 'violation', retryable: false });
const terminal = (summary: string): ReasonEntry => ({ summary, kind: 'error', retryable: false });
const transient = (summary: string): ReasonEntry => ({ summary, kind: 'error', retryable: true });

export const reasons = {
  // ---- passing outcomes -------------------------------------------------------------------------------
  Compliant: ok('the check passed'),
  AllChecksPassed: ok('no blocking check failed'),
  NotApplicable: ok('the check does not apply to this release'),

  // ---- decision-level --------------------------------------------------------------------------------
  PolicyViolation: violation('one or more blocking checks failed'),
  ChecksErrored: terminal('blocking checks could not complete (fail closed); see each check'),
  Evaluating: ok('evaluation in progress'),

  // ---- operational errors ----------------------------------------------------------------------------
  PolicyNotFound: terminal('the referenced ReleasePolicy does not exist (re-evaluated when it appears)'),
  PolicyInvalid: terminal('the ReleasePolicy is malformed'),
  UnknownCheck: terminal('the policy names a check id this operator does not know'),
  InvalidCheckParams: terminal('the policy gives a check parameters it cannot use'),
  CheckCrashed: terminal('a check threw instead of returning a result'),
  EvidenceUnavailable: transient('evidence needed by a check could not be collected'),
  InvalidSpec: terminal('the ProductRelease spec is malformed'),
  ApiServerError: transient('the Kubernetes API server returned an error'),
  Conflict: transient('the object changed concurrently (HTTP 409); re-read and retry'),
  ApiRequestRejected: terminal('the API server rejected a request for this object version (HTTP 4xx but 404/409/429); retried when it changes'),
  ReconcileCancelled: transient('the reconcile was cancelled (leadership lost, shutdown); nothing was written afterwards'),
  ReconcileTimeout: transient('the reconcile exceeded its deadline and was cancelled; retried with backoff'),
  Internal: terminal('an unexpected internal error'),
  MemoryBudgetExceeded: terminal("an input's estimated memory exceeds the budget from the operator's memory limit (not assessed; raise the limit)"),
  MemoryBudgetBusy: transient("the operator's main heap has no room now for an SBOM analysis's result (not assessed; retried)"),

  // ---- cra.applicability -----------------------------------------------------------------------------
  MissingPlacedOnMarket: violation('spec.placedOnMarket is not set'),
  InvalidDate: violation('a date is not a real calendar date in the expected format'),
  PlacedOnMarketImplausible: violation('spec.placedOnMarket is earlier than evidence proves the release existed (SBOM, signature, creationTimestamp)'),

  // ---- manufacturer.identity -------------------------------------------------------------------------
  MissingManufacturerName: violation('the manufacturer name is missing'),
  MissingPostalAddress: violation('the manufacturer postal address is missing'),
  MissingContactChannel: violation('the manufacturer has neither an email nor a URL'),
  IncompleteManufacturerIdentity: violation('several manufacturer identity fields are missing'),

  // ---- update.channel --------------------------------------------------------------------------------
  NoUpdateChannel: violation('no security update channel is declared'),
  InsecureUpdateChannel: violation('the update channel is not an https URL'),
  ManualUpdatesWithoutJustification: violation('automatic updates are off without a justification'),

  // ---- update.support-period -------------------------------------------------------------------------
  MissingSupportEnd: violation('spec.updates.supportEnd is not set'),
  SupportPeriodTooShort: violation('the support period is shorter than required'),
  SupportEnded: violation('the support period has ended: the release no longer receives security updates'),
  MissingExpectedUseRationale: violation('a shorter expected use period needs a rationale'),

  // ---- disclosure.contact ----------------------------------------------------------------------------
  NoVulnerabilityContact: violation('no point of contact for vulnerability reports'),
  InvalidContact: violation('the vulnerability contact is neither a valid mailto: nor an https: URL'),
  ContactIsHomepage: violation('the vulnerability contact is a plain homepage'),
  ContactNotReportingChannel: violation('the vulnerability contact is not recognisably a dedicated reporting channel'),

  // ---- sbom.* and artifact.hash-matches-sbom (BSI TR-03183-2, NTIA) ----------------------------------
  SbomMissing: violation('an artifact has no SBOM'),
  SbomComponentMismatch: violation("the SBOM's primary component does not match the artifact"),
  SbomTooLarge: violation('the SBOM exceeds the size or component limits'),
  SbomUnparseable: violation('the SBOM is not well-formed JSON (truncated, wrong encoding, too deeply nested)'),
  SbomFormatUnsupported: violation('the SBOM is not CycloneDX JSON, SPDX 2 JSON or SPDX 3 JSON-LD'),
  SbomDigestMismatch: violation('the SBOM downloaded does not have the digest declared in spec.sboms[].digest'),
  SbomSchemaInvalid: violation('the SBOM is invalid against its format\'s JSON schema'),
  SbomFormatTooOld: violation('the SBOM format version is older than the profile accepts'),
  MissingSbomCreator: violation('the SBOM creator has neither an email address nor a URL'),
  MissingSbomTimestamp: violation('the SBOM has no valid timestamp'),
  MissingSbomAuthor: violation('the SBOM names no author of the SBOM data'),
  MissingComponentCreator: violation('components lack a creator email or URL'),
  MissingComponentName: violation('components lack a name'),
  MissingComponentVersion: violation('components lack a version'),
  MissingComponentFilename: violation('components lack a filename'),
  MissingComponentDependencies: violation('components have no dependencies entry'),
  DependencyCompletenessUnstated: violation('the completeness of components\' dependencies is not stated'),
  MissingDistributionLicence: violation('components lack a distribution licence'),
  MissingDeployableHash: violation('components lack a SHA-512 hash of the deployable form'),
  MissingExecutableProperty: violation('components lack the executable property'),
  MissingArchiveProperty: violation('components lack the archive property'),
  MissingStructuredProperty: violation('components lack the structured property'),
  InvalidBsiProperty: violation('a BSI taxonomy property has a value outside its allowed values or occurs twice'),
  InvalidSbomRelationship: violation('a relationship is not valid in the SBOM format\'s model (e.g. SPDX 3 NoneElement with other elements)'),
  InvalidComponentUri: violation('a component\'s source code or deployable-form URI is not a valid URI'),
  MissingSupplier: violation('components lack a supplier name'),
  MissingUniqueIdentifier: violation('components lack a unique identifier (purl, CPE, SWID)'),
  NoPrimaryComponent: violation('the SBOM declares no primary component'),
  MissingTopLevelDependencies: violation('the primary component does not declare its direct dependencies'),
  DanglingReference: violation('the SBOM refers to components it does not define'),
  DuplicateBomRef: violation('several components share one identifier (bom-ref/SPDXID)'),
  UnreachableComponent: violation('components are not reachable from the primary component'),
  CompletenessNotStated: violation('the SBOM does not state the completeness of its dependency graph'),
  InvalidLicenceExpression: violation('a licence is not a valid SPDX identifier or expression'),
  NonSpdxLicence: violation('a licence is given by free-text name or text only, without an SPDX identifier'),
  VulnerabilityDataInSbom: violation('the SBOM carries vulnerability data (TR-03183-2 §8.1.14)'),
  SbomVersionMismatch: violation("the SBOM's primary component version is not the release version"),
  ArtifactHashMismatch: violation('the artifact digest differs from the hash in its SBOM'),
  ArtifactHashUnavailable: violation('the artifact digest or the SBOM hash to compare it with is missing'),
  UrlNotAllowed: terminal('the URL is refused by the SSRF guard (scheme, or a private/loopback/link-local address not allow-listed)'),
  FetchFailed: transient('an HTTPS fetch of evidence failed (network, TLS, HTTP status, timeout)'),

  // ---- OCI registries and signature.valid ------------------------------------------------------------
  RegistryUnavailable: transient('the OCI registry could not be reached or answered with an error (network, TLS, 5xx, 429, timeout)'),
  RegistryAuthFailed: terminal('the OCI registry refused the credentials (401/403) or the token flow failed'),
  RegistryContentInvalid: terminal('registry content is unusable: digest mismatch, over the size limit, or malformed'),
  ImageNotFound: terminal('the image (manifest) does not exist in the registry'),
  SignatureMissing: violation('an artifact carries no signature'),
  SignatureInvalid: violation('a signature does not verify (tampered payload or signature, wrong signed digest)'),
  UntrustedSigner: violation('the artifact is signed, but by a key or identity the policy does not trust'),
  SignedDigestMismatch: violation('a valid signature covers a different digest than the artifact'),
  NoTrustedSigners: terminal('the policy names no trusted keys or keyless identities (spec.signing)'),
  SigningConfigInvalid: terminal('a trusted key, the trusted root or a pull secret cannot be read or parsed'),
  SecretRefNotAllowed: terminal('a Secret reference is outside the operator namespace and the namespaces opted in by label'),

  // ---- admission webhook (issue 9): violation reasons (metric labels) and the audit Event reason --------
  ReleaseBlocked: violation('the image belongs to a ProductRelease whose signed decision is Blocked'),
  DecisionUnverified: violation('the image belongs to a ProductRelease whose status claims a decision no valid signature backs'),
  ReleaseNotApproved: violation('the image belongs only to ProductReleases without a signed Approved decision for their current generation'),
  ImageNotCovered: violation('strict mode: no Approved ProductRelease covers the image'),
  DigestRequired: violation('the image names only a tag and the policy does not allow tags (or not from that registry)'),
  DigestUnresolved: violation('the image tag could not be resolved to a digest from a trusted registry, so it cannot be matched to a release'),
  ImageReferenceInvalid: violation('the image reference cannot be parsed, so it cannot be matched to a release'),
  AdmissionLimitExceeded: violation('the workload exceeds a limit of the webhook (containers, tags to resolve) or is malformed; it is not checked in part'),
  AdmissionAudit: ok('audit mode admitted a workload that enforce mode would deny'),

  // ---- config.secure-defaults ------------------------------------------------------------------------
  NoSecureDefaults: violation('the release declares no secure default configuration (spec.secureDefaults)'),
  PodSecurityViolation: violation('shipped manifests violate the Pod Security Standards'),
  DefaultCredentials: violation('shipped defaults contain default passwords, private keys or tokens'),
  InsecureManifests: violation('shipped manifests are not hardened (filesystem, resources, tokens, RBAC, exposure)'),
  InsecureSettings: violation('shipped settings or a configuration rule are violated (TLS, auth, debug, telemetry)'),
  MalformedSecureDefaults: terminal('the shipped manifests or settings cannot be parsed'),
  SecureDefaultsTooLarge: terminal('the shipped manifests or settings exceed the size limits'),
  InvalidRule: terminal('a configuration rule document is invalid'),

  // ---- vuln.*, vex.valid, disclosure.security-txt / cvd-policy, waivers, Art. 14 ----------------------
  KnownVulnerability: violation('components have known vulnerabilities that no VEX statement resolves'),
  KnownExploitedVulnerability: violation('components have actively exploited (CISA KEV) vulnerabilities that no VEX statement resolves'),
  NewlyExploitedVulnerability: violation('an approved release is now affected by a newly known-exploited vulnerability (CRA Art. 14 clock started)'),
  UnassessedComponents: violation('SBOM components no vulnerability feed could assess (no purl in a covered ecosystem, no CPE with an NVD feed)'),
  ComponentVersionConflict: violation("a component's purl version, CPE version and version field disagree"),
  NoVulnerabilityFeed: terminal('the policy configures no vulnerability feed of the kind this check needs'),
  FeedInvalid: terminal('a vulnerability feed is malformed or unreadable (the previous good feed stays in use when there is one)'),
  VexNotForProduct: violation('no statement of the VEX document is about this release (product and version per its SBOM)'),
  VexInvalid: violation('the VEX document is malformed, or a status lacks the justification, impact or action statement it requires'),
  NoSecurityTxt: violation('no security.txt URL is declared (spec.vulnerabilityHandling.securityTxt)'),
  SecurityTxtInvalid: violation('the security.txt violates RFC 9116 (Contact, exactly one Expires, Policy)'),
  SecurityTxtExpired: violation('the security.txt has expired'),
  NoDisclosurePolicy: violation('no coordinated vulnerability disclosure policy URL is declared'),
  DisclosurePolicyUnreachable: violation('the disclosure policy URL does not resolve to a document'),
  DisclosurePolicyNotAPolicy: violation('the disclosure policy URL serves no assessable document about reporting vulnerabilities'),
  UpdateChannelUnreachable: violation('the update channel does not serve a document over HTTPS'),
  UpdateChannelVersionMissing: violation('the update channel document does not list this release version'),
  WaiverExpiringSoon: ok('a waiver covering this release expires soon'),

  // ---- conformity.route, userinfo.annex-ii (CRA file) -------------------------------------------------
  NoProductCategory: violation('spec.product.category is not set (Annex III / Annex IV category, or default)'),
  NoConformityRoute: violation('spec.conformity does not name the conformity assessment procedure used (Art. 32)'),
  ConformityRouteNotAllowed: violation('the conformity assessment procedure is not one Art. 32 allows for the product category'),
  NotifiedBodyMissing: violation('the procedure needs a notified body and its certificate, and they are not identified'),
  UserInformationMissing: violation('Annex II user information items are missing'),
  UserInformationUnreachable: violation('an Annex II user information URL does not resolve to a document'),
  SupportEndMismatch: violation('the end of support stated to users differs from spec.updates.supportEnd (Art. 13(19))'),
} as const satisfies Record<string, ReasonEntry>;

export type Reason = keyof typeof reasons;

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.hasOwn(reasons, value);
}

export function reasonEntry(reason: Reason): ReasonEntry {
  return reasons[reason];
}

export interface CraGateErrorOptions {
  cause?: unknown;
  /** Small, non-secret structured context (field paths, ids). */
  details?: Readonly<Record<string, unknown>>;
  /** Override the catalogue's retryable flag (e.g. a 4xx vs 5xx from the API server). */
  retryable?: boolean;
}

export class CraGateError extends Error {
  readonly code: Reason;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Reason, message?: string, options: CraGateErrorOptions = {}) {
    // URLs in messages lose credentials (userinfo, query values, fragment): messages reach status, Events, logs, CLI.
    super(redactUrls(message ?? reasons[code].summary), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CraGateError';
    this.code = code;
    this.retryable = options.retryable ?? reasons[code].retryable;
    this.details = options.details;
  }

  /** The condition/Event reason (same as `code`). */
  get reason(): Reason {
    return this.code;
  }
}

/** Build a coded error: `craError('PolicyInvalid', 'spec.checks[1].id is empty')`. */
export function craError(code: Reason, message?: string, options?: CraGateErrorOptions): CraGateError {
  return new CraGateError(code, message, options);
}

export function isCraGateError(err: unknown): err is CraGateError {
  return err instanceof CraGateError;
}

/** The reason to report for any thrown value: a CraGateError's code, otherwise `Internal`. */
export function reasonOf(err: unknown): Reason {
  return isCraGateError(err) ? err.code : 'Internal';
}

/** Whether retrying with backoff may help. Unknown errors are treated as transient (fail safe: retry, bounded). */
export function isRetryable(err: unknown): boolean {
  return isCraGateError(err) ? err.retryable : true;
}

/** A short one-line message for any thrown value (bounded length, no stack). */
export function errorMessage(err: unknown, max = 200): string {
  let text: string;
  if (err instanceof Error) text = err.message || err.name;
  else if (typeof err === 'string') text = err;
  else {
    try {
      text = JSON.stringify(err) ?? String(err);
    } catch {
      text = String(err);
    }
  }
  text = redactUrls(text.replace(/\s+/g, ' ').trim());
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
