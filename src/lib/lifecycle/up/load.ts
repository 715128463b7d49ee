import type {ServicePlan} from './plan.js'
import type {UpRun} from './run.js'

/**
 * One service's load into the cluster, when the plan loads it. The cluster target owns the presence
 * check (`already-present`): no look before the load here. An image built in this run is new to the
 * cluster, so the target is told to skip its look, unless a node lists it (then the look may save
 * the load).
 */
export async function loadService(
  run: UpRun,
  service: ServicePlan,
  signal: AbortSignal,
  report: (line: string) => void,
): Promise<void> {
  const {connection, result} = run
  const outcome = result.images.find((image) => image.service === service.service)!
  report(`${service.service}: making sure ${connection.cluster.describe()} has ${service.ref}`)
  const loaded = await connection.cluster.loadImage(service.ref, {
    signal,
    expectedImageId: run.imageIds[service.service],
    freshlyBuilt: outcome.built && service.load.listedOn === undefined,
    onLine: (line) => report(`${service.service}: ${line}`),
  })
  outcome.loaded = loaded === 'loaded'
  if (!outcome.loaded) outcome.loadSkipReason = `already in ${connection.cluster.describe()}`
  report(`${service.service}: ${outcome.loaded ? 'loaded' : 'already in the cluster'}`)
}
