import {randomBytes} from 'node:crypto'
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Docker from 'dockerode'

import {SERVICE_NAMES, type ServiceName} from '../../../src/lib/config/schema.js'
import {dockerSocket} from '../../support/real-components.js'

/** Every repository a wired project uses starts with this: a leftover image is easy to find and remove. */
export const WIRED_REPOSITORY_PREFIX = 'todo-wiring-'

/** A tiny image: the static busybox serving a folder. Built in a second, if anything builds it. */
const BUSYBOX_DOCKERFILE =
  'FROM scratch\nCOPY busybox /bin/busybox\nCOPY app /app\nCMD ["/bin/busybox", "httpd", "-f", "-h", "/app"]\n'

export interface WiredProject {
  dir: string
  /** The image repository of each service: unique to this project. */
  repositories: Record<ServiceName, string>
  /** The images the local Docker Engine holds in this project's repositories (`repo:tag`). */
  localImages(): Promise<string[]>
  /** Removes the folder and any image of its repositories. */
  remove(): Promise<void>
}

/**
 * An app project whose services build from `FROM scratch` + /bin/busybox, with a todo-deploy.yaml
 * naming each Dockerfile and a repository of its own (`todo-wiring-<random>-<service>`).
 */
export function createWiredProject(): WiredProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-wiring-project-'))
  const unique = randomBytes(4).toString('hex')
  const repositories = Object.fromEntries(
    SERVICE_NAMES.map((service) => [service, `${WIRED_REPOSITORY_PREFIX}${unique}-${service}`]),
  ) as Record<ServiceName, string>
  const config = ['services:']
  for (const service of SERVICE_NAMES) {
    const context = path.join(dir, service)
    mkdirSync(path.join(context, 'app'), {recursive: true})
    copyFileSync('/bin/busybox', path.join(context, 'busybox'))
    writeFileSync(path.join(context, 'Dockerfile'), BUSYBOX_DOCKERFILE)
    writeFileSync(path.join(context, 'app', 'index.html'), `<h1>${service}</h1>\n`)
    config.push(
      `  ${service}:`,
      `    image: {repository: ${repositories[service]}}`,
      `    build: {context: ${service}, dockerfile: ${service}/Dockerfile}`,
    )
  }
  writeFileSync(path.join(dir, 'todo-deploy.yaml'), `${config.join('\n')}\n`)

  const docker = new Docker({socketPath: dockerSocket})
  const localImages = async (): Promise<string[]> => {
    const images = await docker.listImages({
      filters: JSON.stringify({
        reference: Object.values(repositories).map((repository) => `${repository}:*`),
      }),
    })
    return images.flatMap((image) => image.RepoTags ?? [])
  }
  return {
    dir,
    repositories,
    localImages,
    remove: async () => {
      for (const ref of await localImages().catch(() => []))
        await docker
          .getImage(ref)
          .remove({force: true})
          .catch(() => undefined)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
