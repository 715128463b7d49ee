import {DockerfileParser} from 'dockerfile-ast'

/** Docker Hub, as a build names it when a FROM line names no registry. */
const DOCKER_HUB = 'docker.io'

/**
 * The registries a Dockerfile's FROM lines pull from: the one an image names, else Docker Hub; an
 * earlier stage, `scratch` and an image named through an ARG pull nothing that can be known here.
 */
export function baseImageRegistries(dockerfileText: string): string[] {
  const registries = new Set<string>()
  const stages = new Set<string>()
  for (const from of DockerfileParser.parse(dockerfileText).getFROMs()) {
    const image = from.getImageName()
    const registry = from.getRegistry()
    if (registry !== null) registries.add(registry)
    else if (image !== null && image !== 'scratch' && !stages.has(image) && !image.includes('$'))
      registries.add(DOCKER_HUB)
    const stage = from.getBuildStage()
    if (stage !== null) stages.add(stage)
  }
  return [...registries]
}
