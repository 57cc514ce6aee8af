/** RFC 6901 JSON pointer segments: the one escaping/unescaping used by every layer. */

/** Escapes one pointer segment (`~` → `~0`, `/` → `~1`). */
export function pointerSegment(segment: string | number): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Unescapes one pointer segment (`~1` → `/`, then `~0` → `~`, in that order per RFC 6901 §4). */
export function unescapePointerSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}
