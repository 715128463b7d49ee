import {type ChangeSet, isEmptyChangeSet, mergeChangeSets} from './change-set.js'

/**
 * Where change sets wait for the next iteration of `dev`. It holds at most one: a change set that
 * arrives while another is waiting is merged into it, so however many edits happen during a running
 * iteration, exactly one more iteration follows, and none of them is lost.
 */
export class ChangeQueue {
  #pending: ChangeSet | undefined
  #waiter: ((changes: ChangeSet | undefined) => void) | undefined
  #closed = false

  /** Adds `changes` to the waiting change set (an empty one is dropped). */
  push(changes: ChangeSet): void {
    if (this.#closed || isEmptyChangeSet(changes)) return
    this.#pending = this.#pending === undefined ? changes : mergeChangeSets(this.#pending, changes)
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = undefined
      waiter(this.#takePending())
    }
  }

  /** The waiting change set, if any (it stays queued). */
  get pending(): ChangeSet | undefined {
    return this.#pending
  }

  /** Takes the waiting change set, waiting for one; undefined once the queue is closed. */
  next(): Promise<ChangeSet | undefined> {
    if (this.#pending !== undefined) return Promise.resolve(this.#takePending())
    if (this.#closed) return Promise.resolve(undefined)
    if (this.#waiter !== undefined)
      throw new Error('ChangeQueue.next() is already waiting: one consumer only')
    return new Promise((resolve) => (this.#waiter = resolve))
  }

  /** Ends the queue: a waiting `next()` resolves undefined and later pushes are dropped. */
  close(): void {
    this.#closed = true
    this.#pending = undefined
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.(undefined)
  }

  #takePending(): ChangeSet | undefined {
    const pending = this.#pending
    this.#pending = undefined
    return pending
  }
}
