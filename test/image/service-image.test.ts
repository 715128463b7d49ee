import {mkdtemp} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {ContentTagger} from '../../src/lib/image/content-tag.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder} from '../../src/lib/image/image-builder.js'
import {imageSizeWarning} from '../../src/lib/image/image-size.js'
import {
  ensureServiceImage,
  hasStage,
  planServiceImage,
  type ServiceImageInput,
} from '../../src/lib/image/service-image.js'
import {ExitCode} from '../../src/lib/errors.js'
import {
  appContext,
  buildFixtures,
  removeDir,
  removeTestImages,
  testRepository,
  writeFiles,
} from '../support/docker-fixtures.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'

describe('imageSizeWarning', () => {
  it('warns only over the target, naming the image, its size and the target', () => {
    expect(imageSizeWarning('todo-frontend:c-1', 499_000_000, 500)).toBeUndefined()
    expect(imageSizeWarning('todo-frontend:c-1', 612_400_000, 500)).toMatch(
      /^image todo-frontend:c-1 is 612 MB, over its 500 MB target/,
    )
  })
})

describe('hasStage', () => {
  it('finds a named stage however its FROM line is written, and nothing else', () => {
    const text = [
      'FROM --platform=$BUILDPLATFORM node:18-alpine AS deps',
      'from deps as Dev',
      'RUN echo "FROM x AS dev"',
      'FROM deps',
    ].join('\n')
    expect(hasStage(text, 'deps')).toBe(true)
    expect(hasStage(text, 'dev')).toBe(true)
    expect(hasStage('FROM scratch\nRUN echo FROM x AS dev\n', 'dev')).toBe(false)
    expect(hasStage(text, 'runtime')).toBe(false)
  })
})

describe.skipIf(!dockerAvailable && !inCI)('planServiceImage / ensureServiceImage on the real engine', () => {
  const deps = {
    builder: new DockerImageBuilder(dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`})),
    tagger: new ContentTagger(),
  }
  const repository = testRepository('frontend')
  const dirs: string[] = []
  afterAll(async () => {
    await removeTestImages(repository)
    await Promise.all(dirs.map(removeDir))
  })

  it('builds once, then skips while the content is unchanged, and warns over the size target', async () => {
    const app = await appContext()
    dirs.push(app)
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-cache-'))
    dirs.push(cacheDir)
    const input: ServiceImageInput = {
      service: 'frontend',
      contextDir: app,
      dockerfilePath: path.join(buildFixtures, 'docker', 'Dockerfile'),
      buildArgs: {GREETING: 'hi'},
      repository,
      sizeTargetMB: 0.1,
    }
    const withCache = {...deps, tagger: new ContentTagger({cacheDir})}

    const plan = await planServiceImage(input, withCache)
    expect(plan).toMatchObject({exists: false, ref: `${repository}:${plan.contentTag}`})
    const first = await ensureServiceImage(plan, withCache)
    expect(first).toMatchObject({ref: plan.ref, built: true})
    expect(first.sizeWarning).toMatch(new RegExp(`^image ${plan.ref} is \\d+ MB, over its 0.1 MB target`))

    await writeFiles(app, {'debug.log': 'ignored change\n'})
    const again = await planServiceImage(input, withCache)
    expect(again).toMatchObject({exists: true, contentTag: plan.contentTag})
    const progress: string[] = []
    const second = await ensureServiceImage(again, withCache, {onProgress: (line) => progress.push(line)})
    expect(second).toMatchObject({built: false, id: first.id})
    expect(progress).toEqual([`image ${plan.ref} already built, skipping`])

    await writeFiles(app, {'src/index.js': 'console.log("v2")\n'})
    const changed = await planServiceImage(input, withCache)
    expect(changed).toMatchObject({exists: false})
    expect(changed.contentTag).not.toBe(plan.contentTag)
  })

  it('reports a missing Dockerfile as bad input naming the service', async () => {
    const app = await appContext()
    dirs.push(app)
    await expect(
      planServiceImage(
        {service: 'backend', contextDir: app, dockerfilePath: path.join(app, 'nope.Dockerfile'), repository},
        deps,
      ),
    ).rejects.toMatchObject({exitCode: ExitCode.BadInput, message: expect.stringContaining('backend')})
  })
})
