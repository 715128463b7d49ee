import {InterruptedError} from '../../../src/lib/errors.js'

/**
 * Takes `ms` (real time) unless the signal aborts first; an abort rejects with InterruptedError, as the
 * real adapters do when their child process or HTTP stream is stopped. `sawAbort` hears about it.
 */
export function work(
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
  sawAbort: string[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = (): void => {
      sawAbort.push(what)
      reject(new InterruptedError(`${what} interrupted`))
    }
    if (signal?.aborted) {
      interrupted()
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      interrupted()
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
