import type {RawLogLine} from './log-source.js'

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/

/** Nanoseconds since the epoch of an RFC3339(Nano) time, or undefined when `time` is not one. */
export function timeKey(time: string): bigint | undefined {
  const match = RFC3339.exec(time)
  if (!match) return undefined
  const ms = Date.parse(`${match[1]}${match[3]}`)
  if (Number.isNaN(ms)) return undefined
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'))
}

/** Splits the kubelet's `timestamps=true` prefix (`2026-11-21T20:44:03.123456789Z text`) off a line. */
export function splitTimestamp(line: string): RawLogLine {
  const space = line.indexOf(' ')
  const head = space === -1 ? line : line.slice(0, space)
  if (timeKey(head) === undefined) return {time: null, text: line}
  return {time: head, text: space === -1 ? '' : line.slice(space + 1)}
}

/**
 * Where one container's log was read up to, so that a reopened stream neither repeats nor skips lines.
 * A reopen asks for `since` (the last line's second: the kubelet's sinceTime is whole seconds and
 * inclusive); `resume()` then skips what arrives again: every line older than the last one seen, and
 * at the last one's exact time as many lines of each text as were already delivered.
 */
export class LogCursor {
  #last: bigint | undefined
  #lastTime: string | undefined
  #atLast = new Map<string, number>()
  #replay: Map<string, number> | undefined

  /** True once a timed line went through. */
  get started(): boolean {
    return this.#last !== undefined
  }

  /** sinceTime for a reopen (UTC, whole seconds), or undefined when no timed line was seen. */
  get since(): string | undefined {
    if (this.#lastTime === undefined) return undefined
    const ms = Date.parse(this.#lastTime.replace(/\.\d+/, ''))
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }

  /** Call when a stream is (re)opened from `since`: what was already delivered is skipped once. */
  resume(): void {
    this.#replay = this.#last === undefined ? undefined : new Map(this.#atLast)
  }

  /** Whether `line` is new (and records it); a line without a time cannot be placed and always is. */
  accept(line: RawLogLine): boolean {
    const key = line.time === null ? undefined : timeKey(line.time)
    if (key === undefined) return true
    const last = this.#last
    if (this.#replay !== undefined && last !== undefined) {
      if (key < last) return false
      const pending = key === last ? (this.#replay.get(line.text) ?? 0) : 0
      if (pending > 0) {
        this.#replay.set(line.text, pending - 1)
        return false
      }
      if (key > last) this.#replay = undefined
    }
    if (last === undefined || key > last) {
      this.#last = key
      this.#lastTime = line.time ?? undefined
      this.#atLast = new Map()
    }
    this.#atLast.set(line.text, (this.#atLast.get(line.text) ?? 0) + 1)
    return true
  }
}
