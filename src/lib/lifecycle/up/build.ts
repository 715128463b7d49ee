import {ensureServiceImage} from '../../image/service-image.js'
import type {ServicePlan} from './plan.js'
import type {UpRun} from './run.js'

/**
 * One service's build step, as the plan says: built (recorded in the result), or the engine's image
 * kept as it is. Either way the run learns the image ID the delivery checks against.
 */
export async function buildService(
  run: UpRun,
  service: ServicePlan,
  signal: AbortSignal,
  report: (line: string) => void,
): Promise<void> {
  const {connection, result, observed} = run
  const outcome = result.images.find((image) => image.service === service.service)!
  const image = observed?.images[service.service]
  if (!image) throw new Error(`up: no observation of the ${service.service} image`)
  if (service.build.action === 'skip') {
    if (image.imageId && service.tag === image.contentTag) run.imageIds[service.service] = image.imageId
    report(`${service.service}: ${service.build.reason}`)
    return
  }
  const built = await ensureServiceImage(
    image,
    {builder: connection.images(run.builderEnv ?? null)},
    {signal, onProgress: (line) => report(`${service.service}: ${line}`)},
  )
  run.imageIds[service.service] = built.id
  outcome.built = built.built
  if (built.contextSent) outcome.contextSent = built.contextSent
  if (built.sizeWarning) {
    outcome.sizeWarning = built.sizeWarning
    result.warnings.push(built.sizeWarning)
  }
  report(`${service.service}: built ${service.ref}`)
}
