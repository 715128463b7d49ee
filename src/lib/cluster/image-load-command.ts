import {InterruptedError} from '../errors.js'
import type {RunOptions, RunResult} from '../process/runner.js'
import type {LoadImageOptions} from './cluster-target.js'

/**
 * Runs a cluster tool's image-load command (`minikube image load`, `kind load docker-image`,
 * `k3d image import`) with the load's abort signal and progress lines, within `timeoutMs`. A load
 * that was stopped is interrupted, whatever the tool exited with.
 */
export async function runImageLoadCommand(
  load: {ref: string; into: string; timeoutMs: number},
  options: LoadImageOptions,
  run: (runOptions: RunOptions) => Promise<RunResult>,
): Promise<RunResult> {
  const result = await run({
    timeoutMs: load.timeoutMs,
    signal: options.signal,
    onLine: options.onLine === undefined ? undefined : (line) => options.onLine?.(line),
  })
  if (options.signal?.aborted)
    throw new InterruptedError(`loading ${load.ref} into ${load.into} was interrupted`)
  return result
}
