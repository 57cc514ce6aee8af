import { parseJsonOrThrow } from '../util/json.ts';

/** A feed or VEX document that cannot be used; the message says what is wrong and where. */
export class FeedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFormatError';
  }
}

/** Decodes a feed or VEX document (UTF-8) and parses its JSON; a parse failure is a FeedFormatError naming it. */
export function parseFeedJson(bytes: Uint8Array | string, name: string): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return parseJsonOrThrow(text, (m) => new FeedFormatError(`${name}: not valid JSON (${m.slice(0, 120)})`));
}
