import {InterruptedError} from './errors.js'

/**
 * A pause that a Ctrl-C ends at once with an InterruptedError saying what was being waited for. It uses
 * the global setTimeout (not node:timers/promises), so tests in simulated time drive it too.
 */
export function interruptiblePause(
  ms: number,
  signal: AbortSignal | undefined,
  waitingFor: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = (): void => {
      clearTimeout(timer)
      reject(new InterruptedError(`interrupted while waiting for ${waitingFor}`))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', interrupted)
      resolve()
    }, ms)
    if (signal?.aborted) interrupted()
    else signal?.addEventListener('abort', interrupted, {once: true})
  })
}
