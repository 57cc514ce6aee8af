/**
 * JSON values that JSON.parse accepts but no JSON schema should: numbers that overflow to ±Infinity
 * (`1e999`, `-1e999`). JSON itself has no non-finite numbers (RFC 8259 §6), yet `JSON.parse('1e999')` yields
 * Infinity, and Ajv's `integer`/`number` keywords let Infinity through. Callers treat a hit as schema-invalid.
 */

/** RFC 6901 escaping of one pointer segment. */
function seg(s: string | number): string {
  return String(s).replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * JSON pointers of up to `max` non-finite numbers in a parsed JSON value, in document order. Iterative (no
 * recursion on hostile nesting); visits each node once.
 */
export function nonFinitePointers(value: unknown, max = 20): string[] {
  const out: string[] = [];
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0 && out.length < max) {
    const [v, ptr] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push(ptr);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${ptr}/${i}`]);
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]!], `${ptr}/${seg(keys[i]!)}`]);
    }
  }
  return out;
}
