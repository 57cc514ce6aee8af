/**
 * Reading a coordinated vulnerability disclosure (CVD) policy document for positive content evidence. Pure.
 *
 * A CVD policy is a document about reporting vulnerabilities (CRA Annex I Part II(5); ISO/IEC 29147 §5 as
 * guidance). What counts as evidence, bounded and documented in docs/disclosure.md:
 *  - the document is text/html, application/xhtml+xml, text/plain or text/markdown (RFC 7763; read as plain text,
 *    as a SECURITY.md served raw from a forge is) (anything else — a PDF, JSON, an image, no
 *    Content-Type — cannot be assessed: fail closed). HTML is read with htmlparser2 (no hand-written parser);
 *    only visible text counts (not script, style, template, head metadata, attributes);
 *  - topic and action together: a vulnerability term ("vulnerability", "security issue/flaw/bug", and the
 *    German, French, Spanish, Italian and Dutch words) within PROXIMITY characters of a reporting verb
 *    ("report", "submit", "notify", "contact us", "melden", "signaler", …), in the document's own text (not
 *    script, style, head, nav, header or footer: a homepage's menu entry "Report a vulnerability" is not a policy);
 *  - a reporting channel named in the document: an e-mail address or mailto: link, an http(s) link or form
 *    target, or a reference to security.txt (the checks decide which channels are acceptable).
 * Input is bounded by the fetcher (1 MiB); the text considered is capped at MAX_TEXT_CHARS.
 */
import { Parser } from 'htmlparser2';

export const POLICY_MEDIA_TYPES: readonly string[] = ['text/html', 'application/xhtml+xml', 'text/plain', 'text/markdown'];
/** Characters of visible text considered. */
export const MAX_TEXT_CHARS = 512 * 1024;
/** A vulnerability term and a reporting term count together only within this many characters. */
export const PROXIMITY = 200;
/** Channels kept (links, addresses). */
export const MAX_CHANNELS = 200;

const TOPIC = /vulnerabilit(?:y|ies)|security (?:issues?|flaws?|bugs?|problems?|weakness(?:es)?|vulnerabilit(?:y|ies))|schwachstellen?|sicherheitsl(?:ü|ue)cken?|vuln(?:é|e)rabilit(?:é|e)s?|vulnerabilidad(?:es)?|vulnerabilit(?:à|a)|kwetsbaarhe(?:id|den)/giu;
/** Reporting verbs (not "disclosure": a link titled "Vulnerability disclosure" says nothing about how to report). */
const ACTION = /\breport(?:s|ed|ing)?\b|\bsubmit(?:s|ted|ting)?\b|\bsubmission\b|\bnotify\b|\bsend (?:us|an? e-?mail|it)\b|\bcontact (?:us|our|the)\b|\bmelden\b|\bmeldung\b|\bsignal(?:er|ez|ement)\b|\breportar\b|\bnotificar\b|\bcomuni(?:car|que)\b|\bsegnala(?:re|zione|te)\b|\bmeld(?:en|t|ing)\b/giu;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const URL_IN_TEXT = /https?:\/\/[^\s<>"'()[\]]+/g;
/** Not the document's own text: code, metadata, and the site's navigation chrome (a homepage's "Report a vulnerability" menu entry does not make it a policy). */
const SKIP_ELEMENTS = new Set(['script', 'style', 'template', 'noscript', 'head', 'svg', 'iframe', 'object', 'nav', 'header', 'footer']);
/** Elements after which text is a separate run (so words of two blocks do not join). */
const BLOCK = /^(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|nav|main|aside|dd|dt|dl|pre|blockquote|form|title|hr)$/;

export interface PolicyDocument {
  /** Visible text, whitespace collapsed. */
  readonly text: string;
  /** mailto:, http(s): link targets and form actions, resolved against the document URL. */
  readonly links: readonly string[];
}

/** The media type of a Content-Type header (`text/html; charset=utf-8` → `text/html`), lower-case. */
export function mediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

function resolveLink(href: string, base: string): string | undefined {
  const h = href.trim();
  if (/^mailto:/i.test(h)) return h;
  try {
    const u = new URL(h, base);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Visible text and links of an HTML or plain-text document. */
export function readPolicyDocument(body: string, media: string, url: string): PolicyDocument {
  if (media === 'text/plain' || media === 'text/markdown') {
    return { text: body.slice(0, MAX_TEXT_CHARS).replace(/\s+/g, ' ').trim(), links: [] };
  }
  const parts: string[] = [];
  const links: string[] = [];
  let length = 0;
  let skipDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (SKIP_ELEMENTS.has(name)) skipDepth++;
        if (BLOCK.test(name)) parts.push(' ');
        const target = name === 'a' || name === 'area' ? attrs.href : name === 'form' ? attrs.action : undefined;
        if (target !== undefined && skipDepth === 0 && links.length < MAX_CHANNELS) {
          const link = resolveLink(target, url);
          if (link) links.push(link);
        }
      },
      ontext(data) {
        if (skipDepth > 0 || length >= MAX_TEXT_CHARS) return;
        parts.push(data);
        length += data.length;
      },
      onclosetag(name) {
        if (SKIP_ELEMENTS.has(name) && skipDepth > 0) skipDepth--;
        if (BLOCK.test(name)) parts.push(' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(body);
  parser.end();
  return { text: parts.join('').slice(0, MAX_TEXT_CHARS).replace(/\s+/g, ' ').trim(), links };
}

export interface CvdSignals {
  /** A vulnerability term near a reporting term; the passage, shortened, as evidence. */
  readonly passage?: string;
  /** Reporting channels named: mailto:/http(s) links and form actions, e-mail addresses and URLs in the text. */
  readonly channels: readonly string[];
  /** The document refers to a security.txt. */
  readonly mentionsSecurityTxt: boolean;
}

function matches(re: RegExp, text: string): { index: number; end: number }[] {
  const out: { index: number; end: number }[] = [];
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    out.push({ index: m.index, end: m.index + m[0].length });
    if (out.length >= 10_000) break;
  }
  return out;
}

/** The positive evidence a CVD policy document carries (see the module comment). */
export function cvdSignals(doc: PolicyDocument): CvdSignals {
  const text = doc.text;
  const topics = matches(TOPIC, text);
  const actions = matches(ACTION, text);
  let passage: string | undefined;
  for (const t of topics) {
    const a = actions.find((x) => Math.abs(x.index - t.index) <= PROXIMITY);
    if (a) {
      const from = Math.max(0, Math.min(a.index, t.index) - 20);
      const to = Math.min(text.length, Math.max(a.end, t.end) + 60);
      passage = `${from > 0 ? '…' : ''}${text.slice(from, to).trim()}${to < text.length ? '…' : ''}`;
      break;
    }
  }
  const channels = new Set<string>(doc.links);
  for (const m of text.match(EMAIL) ?? []) if (channels.size < MAX_CHANNELS) channels.add(`mailto:${m}`);
  for (const m of text.match(URL_IN_TEXT) ?? []) if (channels.size < MAX_CHANNELS) channels.add(m.replace(/[.,;:!?]+$/, ''));
  return {
    ...(passage !== undefined ? { passage } : {}),
    channels: [...channels],
    mentionsSecurityTxt: /security\.txt/i.test(text) || doc.links.some((l) => /\/\.well-known\/security\.txt$/i.test(l)),
  };
}
