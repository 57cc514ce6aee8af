/**
 * Canonical JSON: object keys sorted, so two values that the API server and this process serialise in
 * different key orders compare equal. Undefined and null members are dropped (in a JSON merge patch a
 * null member means "absent"), so a patch and the object it produced compare equal.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    // Null prototype: a `__proto__` key stays an ordinary key (assigning it on `{}` would set the prototype and drop it).
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && v !== null) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
