/**
 * A small deterministic generator (mulberry32): the same seed gives the same sequence of operations on
 * every machine, so a failing sequence is replayed from the seed it printed.
 */
export class SeededRandom {
  #state: number

  constructor(readonly seed: number) {
    this.#state = seed >>> 0
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  /** One of `choices`, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
    let point = this.next() * total
    for (const [choice, weight] of choices) {
      point -= weight
      if (point < 0) return choice
    }
    const last = choices.at(-1)
    if (last === undefined) throw new Error('weighted: no choices')
    return last[0]
  }
}

/** The seed from `variable` (decimal), else a fresh one; the caller prints it. */
export function seedFrom(variable: string | undefined): number {
  if (variable !== undefined && variable !== '') {
    const seed = Number(variable)
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`the sequence seed must be a non-negative integer, got "${variable}"`)
    return seed
  }
  return Math.floor(Math.random() * 2 ** 31)
}
