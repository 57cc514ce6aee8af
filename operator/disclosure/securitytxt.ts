/**
 * security.txt (RFC 9116) parsing and validation. Pure.
 *
 * Required here: at least one Contact (a URI: mailto:, https:, tel:), exactly one Expires (an RFC 3339
 * date-time, in the future), at least one Policy (the brief's rule: the CVD policy is linked). An
 * OpenPGP cleartext signature wrapper is accepted (the signature itself is not verified).
 */

export interface SecurityTxtField {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

export interface SecurityTxtResult {
  readonly fields: readonly SecurityTxtField[];
  readonly contact: readonly string[];
  readonly policy: readonly string[];
  readonly expires?: Date;
  /** RFC 9116 violations (each makes the check fail). */
  readonly problems: readonly string[];
  readonly expired: boolean;
}

const FIELD_RE = /^([A-Za-z0-9-]+):[ \t]*(.*?)[ \t]*$/;

function stripSignature(text: string): string {
  if (!text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return text;
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === '');
  const end = lines.findIndex((l) => l.startsWith('-----BEGIN PGP SIGNATURE-----'));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n');
}

export function parseSecurityTxt(text: string, now: Date): SecurityTxtResult {
  const body = stripSignature(text.replace(/^\uFEFF/, ''));
  const fields: SecurityTxtField[] = [];
  const problems: string[] = [];
  body.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = FIELD_RE.exec(line);
    if (!m) {
      if (problems.length < 5) problems.push(`line ${i + 1} is neither a field nor a comment`);
      return;
    }
    fields.push({ name: m[1]!.toLowerCase(), value: m[2]!, line: i + 1 });
  });
  const values = (n: string) => fields.filter((f) => f.name === n).map((f) => f.value);
  const contact = values('contact');
  const policy = values('policy');
  const expiresValues = values('expires');
  if (contact.length === 0) problems.push('no Contact field');
  for (const c of contact) {
    if (!/^(mailto:|https:|tel:)/i.test(c)) problems.push(`Contact "${c.slice(0, 60)}" is not a mailto:, https: or tel: URI`);
  }
  if (policy.length === 0) problems.push('no Policy field (link to the vulnerability disclosure policy)');
  for (const p of policy) if (!/^https:/i.test(p)) problems.push(`Policy "${p.slice(0, 60)}" is not an https: URI`);
  let expires: Date | undefined;
  if (expiresValues.length !== 1) problems.push(expiresValues.length === 0 ? 'no Expires field' : `${expiresValues.length} Expires fields (exactly one is allowed)`);
  else {
    const v = expiresValues[0]!;
    const d = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) ? new Date(v) : undefined;
    if (!d || Number.isNaN(d.getTime())) problems.push(`Expires "${v.slice(0, 40)}" is not an RFC 3339 date-time`);
    else expires = d;
  }
  const expired = expires !== undefined && expires <= now;
  return { fields, contact, policy, ...(expires ? { expires } : {}), problems, expired };
}
