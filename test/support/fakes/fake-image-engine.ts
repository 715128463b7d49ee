import {createHash} from 'node:crypto'

import type {
  BuildRequest,
  BuiltImage,
  ImageBuilder,
  ImageInfo,
  ListedImage,
} from '../../../src/lib/image/image-builder.js'
import {BuildError} from '../../../src/lib/errors.js'
import {work} from './abortable-work.js'
import type {CallLog} from './call-log.js'

function imageId(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`
}

/** A Docker Engine holding `repository:tag` → image; builds take `buildMs` and can be made to fail. */
export class FakeImageEngine implements ImageBuilder {
  readonly images = new Map<string, ImageInfo & {createdAt: Date}>()
  /** Every build request, in order (its context, Dockerfile text, tag, signal). */
  readonly builds: BuildRequest[] = []
  /** Builds that were still running when their signal aborted. */
  readonly sawAbort: string[] = []
  /** A repository whose next builds fail with BuildError, as a failing RUN step does. */
  failingRepository: string | undefined
  buildMs = 0
  /** Build time of one repository's images, instead of buildMs. */
  readonly buildMsByRepository = new Map<string, number>()
  sizeBytes = 50 * 1024 * 1024

  constructor(private readonly log: CallLog) {}

  get buildCount(): number {
    return this.builds.length
  }

  async hasImage(ref: string): Promise<ImageInfo | null> {
    this.log.record('engine.hasImage', ref)
    const image = this.images.get(ref)
    return image ? {id: image.id, sizeBytes: image.sizeBytes} : null
  }

  async build(request: BuildRequest, onProgress: (line: string) => void = () => {}): Promise<BuiltImage> {
    const ref = `${request.repository}:${request.tag}`
    this.builds.push(request)
    this.log.record('engine.build', ref)
    onProgress('Step 1/2 : FROM scratch')
    const ms = this.buildMsByRepository.get(request.repository) ?? this.buildMs
    await work(ms, request.signal, `build of ${ref}`, this.sawAbort)
    if (this.failingRepository === request.repository) {
      throw new BuildError(
        `building ${ref} failed at Step 2/2 : RUN make: The command '/bin/sh -c make' returned a non-zero code: 2`,
        {
          where: request.dockerfilePath,
          fix: `fix the failing step in ${request.dockerfilePath} (its output is above) and run again`,
          details: ['make: *** No rule to make target. Stop.'],
        },
      )
    }
    onProgress(`Successfully tagged ${ref}`)
    const id = imageId(`${ref}#${this.builds.length}`)
    const image = {id, sizeBytes: this.sizeBytes, createdAt: new Date()}
    this.images.set(ref, image)
    this.images.set(`${request.repository}:latest`, image)
    return {ref, id, sizeBytes: this.sizeBytes, tags: [ref, `${request.repository}:latest`]}
  }

  async removeImage(ref: string): Promise<boolean> {
    this.log.record('engine.removeImage', ref)
    return this.images.delete(ref)
  }

  async listImages(repository: string): Promise<ListedImage[]> {
    this.log.record('engine.listImages', repository)
    const byId = new Map<string, ListedImage>()
    for (const [ref, image] of this.images) {
      if (!ref.startsWith(`${repository}:`)) continue
      const listed = byId.get(image.id) ?? {
        id: image.id,
        sizeBytes: image.sizeBytes,
        createdAt: image.createdAt,
        tags: [],
      }
      listed.tags.push(ref)
      byId.set(image.id, listed)
    }
    return [...byId.values()]
  }
}
