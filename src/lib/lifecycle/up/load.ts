import type {PhaseOutcome} from '../phase-runner.js'
import {planOf, type UpRun} from './run.js'

/**
 * Makes sure the cluster has each image the plan loads. The cluster target owns the presence check
 * (`already-present`): no look before the load here.
 */
export async function loadImages(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {connection, result, options} = run
  const plan = planOf(run)
  const wanted = plan.services.filter((service) => service.load.action === 'load')
  if (wanted.length === 0)
    return {skip: [...new Set(plan.services.map((service) => service.load.reason))].join('; ')}
  for (const service of wanted) {
    const outcome = result.images.find((image) => image.service === service.service)!
    report(`making sure ${connection.cluster.describe()} has ${service.ref}`)
    const loaded = await connection.cluster.loadImage(service.ref, {
      signal: options.signal,
      expectedImageId: run.imageIds[service.service],
      onLine: (line) => report(`${service.ref}: ${line}`),
    })
    outcome.loaded = loaded === 'loaded'
    if (!outcome.loaded) outcome.loadSkipReason = `already in ${connection.cluster.describe()}`
  }
  const loaded = result.images.filter((image) => image.loaded)
  if (loaded.length === 0)
    return {skip: result.images.map((image) => `${image.ref}: ${image.loadSkipReason}`).join('; ')}
  return loaded.map((image) => image.ref).join(', ')
}
