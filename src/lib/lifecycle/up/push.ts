import type {PhaseOutcome} from '../phase-runner.js'
import {configuredRegistry} from '../registry.js'
import {planOf, type UpRun} from './run.js'

/**
 * Pushes each image the plan pushes to registry.url under its content tag, with per-layer progress.
 * One at a time: the pushes share the upload link, and the layer lines stay readable. The pusher asks
 * the registry again first, so an image another `up` pushed meanwhile is not sent twice.
 */
export async function pushImages(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {connection, result, observed, options, resolved} = run
  const plan = planOf(run)
  const registry = configuredRegistry(resolved, connection)
  const wanted = plan.services.filter((service) => service.push.action === 'push')
  if (!registry || wanted.length === 0)
    return {skip: [...new Set(plan.services.map((service) => service.push.reason))].join('; ')}
  const pushed: string[] = []
  for (const service of wanted) {
    const image = observed?.images[service.service]
    if (!image) throw new Error(`up: no observation of the ${service.service} image`)
    const outcome = await registry.push({
      localRef: image.ref,
      repository: resolved.config.services[service.service].image.repository,
      tag: service.tag,
      signal: options.signal,
      onProgress: (line) => report(`${service.service}: ${line}`),
    })
    const entry = result.images.find((candidate) => candidate.service === service.service)
    if (entry) {
      entry.pushed = outcome.pushed
      entry.digest = outcome.digest
      if (!outcome.pushed)
        entry.pushSkipReason = `already in ${registry.address.host} with digest ${outcome.digest}`
    }
    if (outcome.pushed) pushed.push(outcome.ref)
  }
  if (pushed.length === 0)
    return {skip: `registry ${registry.address.host} already has ${wanted.map((s) => s.ref).join(', ')}`}
  return `pushed ${pushed.join(', ')}`
}
