import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {BadInputError} from '../errors.js'
import {BuildContext} from './build-context.js'
import type {ContentTagger} from './content-tag.js'
import type {ContextSent, ImageBuilder} from './image-builder.js'
import {imageSizeWarning} from './image-size.js'

export interface ServiceImageInput {
  /** Service name, for messages (`frontend`). */
  service: string
  contextDir: string
  /** May be outside `contextDir` (the CLI's bundled Dockerfiles). */
  dockerfilePath: string
  buildArgs?: Readonly<Record<string, string>>
  /**
   * The stage to build when the Dockerfile has one of that name (`dev` builds `dev`); otherwise, and
   * when unset, the last stage.
   */
  target?: string
  /** e.g. `todo-frontend` */
  repository: string
  sizeTargetMB?: number
  platform?: string
}

export interface ServiceImagePlan {
  input: ServiceImageInput
  context: BuildContext
  dockerfileText: string
  /** The stage built, when the Dockerfile has the one asked for. */
  target?: string
  contentTag: string
  /** `repository:contentTag` */
  ref: string
  /** The engine already has this exact content: nothing to build. */
  exists: boolean
  /** The engine's image ID for `ref`, when it exists. */
  imageId?: string
}

export interface ServiceImageResult {
  ref: string
  id: string
  sizeBytes: number
  built: boolean
  /** What of the context went to the engine for this build (BuildKit sends only what changed). */
  contextSent?: ContextSent
  sizeWarning?: string
}

export interface ServiceImageDeps {
  builder: ImageBuilder
  tagger: ContentTagger
}

/** The service's sources and content tag: what the image would be, before asking any engine. */
export type TaggedServiceImage = Omit<ServiceImagePlan, 'exists' | 'imageId'>

/** Works out the service's content tag and whether the engine already has that image. */
export async function planServiceImage(
  input: ServiceImageInput,
  deps: ServiceImageDeps,
): Promise<ServiceImagePlan> {
  return findServiceImage(await tagServiceImage(input, deps.tagger), deps.builder)
}

/** Whether the engine already has the tagged image. */
export async function findServiceImage(
  image: TaggedServiceImage,
  builder: ImageBuilder,
): Promise<ServiceImagePlan> {
  const existing = await builder.hasImage(image.ref)
  const plan = {...image, exists: existing !== null}
  return existing === null ? plan : {...plan, imageId: existing.id}
}

/** Reads the Dockerfile, scans and hashes the build context: local work that needs no engine or cluster. */
export async function tagServiceImage(
  input: ServiceImageInput,
  tagger: ContentTagger,
): Promise<TaggedServiceImage> {
  const dockerfilePath = path.resolve(input.dockerfilePath)
  let dockerfileText: string
  try {
    dockerfileText = await readFile(dockerfilePath, 'utf8')
  } catch (error) {
    throw new BadInputError(`cannot read the Dockerfile of ${input.service}: ${dockerfilePath}`, {
      where: dockerfilePath,
      fix: `check the Dockerfile path configured for ${input.service}`,
      cause: error,
    })
  }
  const context = await BuildContext.scan(input.contextDir, dockerfilePath)
  const target =
    input.target !== undefined && hasStage(dockerfileText, input.target) ? input.target : undefined
  const {tag} = await tagger.tag({context, dockerfileText, buildArgs: input.buildArgs, target})
  const tagged = {input, context, dockerfileText, contentTag: tag, ref: `${input.repository}:${tag}`}
  return target === undefined ? tagged : {...tagged, target}
}

/** Whether the Dockerfile names a stage `stage` (`FROM base AS stage`; stage names are case-insensitive). */
export function hasStage(dockerfileText: string, stage: string): boolean {
  return dockerfileText
    .split('\n')
    .some(
      (line) =>
        /^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$/i.exec(line)?.[1]?.toLowerCase() ===
        stage.toLowerCase(),
    )
}

/** Builds the planned image unless the engine already has it. */
export async function ensureServiceImage(
  plan: ServiceImagePlan,
  deps: Pick<ServiceImageDeps, 'builder'>,
  options: {onProgress?: (line: string) => void; signal?: AbortSignal} = {},
): Promise<ServiceImageResult> {
  const {input} = plan
  const existing = plan.exists ? await deps.builder.hasImage(plan.ref) : null
  let result: ServiceImageResult
  if (existing === null) {
    const built = await deps.builder.build(
      {
        context: plan.context,
        dockerfileText: plan.dockerfileText,
        dockerfilePath: path.resolve(input.dockerfilePath),
        repository: input.repository,
        tag: plan.contentTag,
        buildArgs: input.buildArgs,
        ...(plan.target === undefined ? {} : {target: plan.target}),
        platform: input.platform,
        signal: options.signal,
      },
      options.onProgress,
    )
    result = {ref: plan.ref, id: built.id, sizeBytes: built.sizeBytes, built: true}
    if (built.contextSent) result.contextSent = built.contextSent
  } else {
    options.onProgress?.(`image ${plan.ref} already built, skipping`)
    result = {ref: plan.ref, ...existing, built: false}
  }
  const sizeWarning =
    input.sizeTargetMB === undefined
      ? undefined
      : imageSizeWarning(plan.ref, result.sizeBytes, input.sizeTargetMB)
  return sizeWarning === undefined ? result : {...result, sizeWarning}
}
