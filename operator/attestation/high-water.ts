/**
 * A bounded per-uid high-water mark of evaluation sequences (issue 14): the highest sequence of a verified
 * decision seen (webhook) or signed (operator) for a ProductRelease uid. `max` makes it indifferent to the order
 * in which watch events arrive; past `maxEntries` the least recently raised uid is forgotten (its releases are
 * then protected by the decision's expiry alone).
 */
export class SequenceHighWater {
  private readonly marks = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(maxEntries = 100_000) {
    this.maxEntries = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.marks.size;
  }

  get(uid: string): number | undefined {
    return this.marks.get(uid);
  }

  /** Raises the mark of `uid` to `sequence` (never lowers it). */
  observe(uid: string, sequence: number): void {
    if (!uid || !Number.isSafeInteger(sequence)) return;
    const cur = this.marks.get(uid);
    if (cur !== undefined && cur >= sequence) return;
    this.marks.delete(uid);
    this.marks.set(uid, sequence);
    if (this.marks.size > this.maxEntries) {
      const oldest = this.marks.keys().next().value;
      if (oldest !== undefined) this.marks.delete(oldest);
    }
  }

  forget(uid: string): void {
    this.marks.delete(uid);
  }
}
