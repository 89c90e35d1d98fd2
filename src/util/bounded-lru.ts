/**
 * A map bounded by the estimated cost of what it holds (e.g. bytes of heap): reading or setting an entry makes it
 * the most recently used, and setting one drops the least recently used until the total fits the bound. A value
 * that costs more than the whole bound is not kept (a bound is a ceiling, not a wish). Costs are the caller's
 * estimate, taken when the entry is set.
 */
export class BoundedLru<K, V> {
  /** Oldest first: a Map iterates in insertion order, and every use moves the entry to the end. */
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  /** `maxCost`: the bound (may be changed; the next set applies it). */
  constructor(public maxCost: number) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V, cost: number): void {
    this.delete(key);
    if (cost > this.maxCost) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    for (const [k, e] of this.map) {
      if (this.total <= this.maxCost) break;
      this.map.delete(k);
      this.total -= e.cost;
    }
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.total -= e.cost;
  }

  /** The summed cost of the entries held. */
  get cost(): number {
    return this.total;
  }

  /** The keys held, least recently used first. */
  keys(): K[] {
    return [...this.map.keys()];
  }
}
