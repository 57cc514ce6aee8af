/**
 * Evidence fetched over HTTPS (through the SSRF guard) for the disclosure checks and the update-channel
 * probe: collected by ../evidence/disclosure.ts, read by ../checks/disclosure-web.ts.
 */
import type { Reason } from '../errors.ts';

export interface FetchedDocument {
  readonly url: string;
  /** The fetch succeeded (2xx after redirects). */
  readonly ok: boolean;
  readonly status?: number;
  readonly finalUrl?: string;
  /** `sha256:<hex>` of the body. */
  readonly digest?: string;
  /** Body as text (bounded), for documents the checks parse (security.txt, CVD policy, update channel). */
  readonly text?: string;
  /** The Content-Type response header, when the server sent one. */
  readonly contentType?: string;
  /** Why it failed: UrlNotAllowed (SSRF guard), FetchFailed (network/TLS/HTTP). */
  readonly error?: { readonly reason: Reason; readonly message: string; readonly httpStatus?: number };
}

export interface DisclosureEvidence {
  readonly securityTxt?: FetchedDocument;
  readonly disclosurePolicy?: FetchedDocument;
  readonly updateChannel?: FetchedDocument;
}

