/**
 * Redaction of credentials in URLs before they reach a message, status, Event, log line or CLI output.
 * URLs may carry tokens in userinfo (`https://user:token@host/`), query values (`?token=…`, presigned
 * `X-Amz-Signature=…`) and fragments; all three are replaced by `REDACTED`, keeping the scheme, host, port,
 * path and query parameter names so the message still says which resource was meant.
 */

export const REDACTED = 'REDACTED';

/** One URL with userinfo, query values and fragment redacted; text that is not a URL is returned unchanged. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
  let changed = false;
  if (url.username || url.password) {
    url.username = REDACTED;
    url.password = '';
    changed = true;
  }
  if (url.search) {
    const names = [...url.searchParams.keys()];
    url.search = names.map((n) => `${encodeURIComponent(n)}=${REDACTED}`).join('&');
    changed = true;
  }
  if (url.hash) {
    url.hash = REDACTED;
    changed = true;
  }
  return changed ? url.toString() : raw;
}

// scheme://…  up to whitespace, quotes, angle brackets or a closing paren/bracket that ends a sentence.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Every URL inside free text redacted (see redactUrl); cheap when the text holds no `://`. */
export function redactUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (m) => {
    const trail = /[).,;:\]}]+$/.exec(m)?.[0] ?? '';
    const core = trail ? m.slice(0, -trail.length) : m;
    return redactUrl(core) + trail;
  });
}
