import {ensureServiceImage} from '../../build/service-image.js'
import type {PhaseOutcome} from '../phase-runner.js'
import {planOf, type UpRun} from './run.js'

/** Builds the images the plan says to build, together; the others keep the engine's image as it is. */
export async function buildImages(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {connection, result, observed, options} = run
  const builder = connection.images(run.builderEnv ?? null)
  await Promise.all(
    planOf(run).services.map(async (service, index) => {
      const outcome = result.images[index]!
      const image = observed?.images[service.service]
      if (!image) throw new Error(`up: no observation of the ${service.service} image`)
      if (service.build.action === 'skip') {
        if (image.imageId && service.tag === image.contentTag) run.imageIds[service.service] = image.imageId
        report(`${service.service}: ${service.build.reason}`)
        return
      }
      const built = await ensureServiceImage(
        image,
        {builder},
        {signal: options.signal, onProgress: (line) => report(`${service.service}: ${line}`)},
      )
      run.imageIds[service.service] = built.id
      outcome.built = built.built
      if (built.sizeWarning) {
        outcome.sizeWarning = built.sizeWarning
        result.warnings.push(built.sizeWarning)
      }
      report(`${service.service}: built ${service.ref}`)
    }),
  )
  const built = result.images.filter((image) => image.built)
  if (built.length === 0) return {skip: result.images.map((image) => image.buildSkipReason).join('; ')}
  return built.map((image) => image.ref).join(', ')
}
