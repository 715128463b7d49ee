import {randomUUID} from 'node:crypto'
import {mkdir, readFile, rm, symlink} from 'node:fs/promises'
import path from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder, probeBuilder, type BuildRequest} from '../../src/lib/image/image-builder.js'
import {BuildError, ExitCode, InterruptedError, PrerequisiteError} from '../../src/lib/errors.js'
import {
  appContext,
  buildFixtures,
  busyboxContext,
  removeDir,
  removeTestImages,
  testDocker,
  testRepository,
  writeFiles,
} from '../support/docker-fixtures.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'

const outsideDockerfile = path.join(buildFixtures, 'docker', 'Dockerfile')

/** What each builder calls the step a test looks for. */
const BUILDERS = [
  {
    name: 'BuildKit',
    env: {},
    firstStep: '[internal] load build definition from Dockerfile',
    failingStep: '[2/2] RUN ["/bin/busybox","sh","-c","echo boom-output; exit 3"]',
    exitCode3: 'exit code: 3',
    runStep: /^\[2\/2\] RUN /,
  },
  {
    name: 'the classic builder (DOCKER_BUILDKIT=0)',
    env: {DOCKER_BUILDKIT: '0'},
    firstStep: 'Step 1/5 : FROM scratch',
    failingStep: 'Step 3/3 : RUN ["/bin/busybox","sh","-c","echo boom-output; exit 3"]',
    exitCode3: 'non-zero code: 3',
    runStep: /^Step 3\/3 : RUN /,
  },
]

describe.skipIf(!dockerAvailable && !inCI).each(BUILDERS)(
  'DockerImageBuilder with $name on the real engine',
  (kind) => {
    const builder = new DockerImageBuilder(
      dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`, ...kind.env}),
    )
    const repositories: string[] = []
    const dirs: string[] = []
    afterAll(async () => {
      for (const repository of repositories) await removeTestImages(repository)
      await Promise.all(dirs.map(removeDir))
    })

    async function request(
      name: string,
      files: Record<string, string>,
      dockerfileText: string,
      tag = 'c-000000000001',
    ): Promise<BuildRequest> {
      const dir = await busyboxContext({...files, Dockerfile: dockerfileText})
      dirs.push(dir)
      const repository = testRepository(name)
      repositories.push(repository)
      const dockerfilePath = path.join(dir, 'Dockerfile')
      return {
        context: await BuildContext.scan(dir, dockerfilePath),
        dockerfileText,
        dockerfilePath,
        repository,
        tag,
      }
    }

    it('builds from an outside Dockerfile, sends only the filtered files and tags content + latest', async () => {
      const dir = await appContext()
      dirs.push(dir)
      const repository = testRepository('app')
      repositories.push(repository)
      const lines: string[] = []
      const built = await builder.build(
        {
          context: await BuildContext.scan(dir, outsideDockerfile),
          dockerfileText: await readFile(outsideDockerfile, 'utf8'),
          dockerfilePath: outsideDockerfile,
          repository,
          tag: 'c-0123456789ab',
          // A new value each run: the RUN step that lists the files is never taken from the build cache.
          buildArgs: {GREETING: `hi-${randomUUID()}`},
        },
        (line) => lines.push(line),
      )

      expect(lines).toContain(kind.firstStep)
      // The last step lists /ctx inside the image: exactly the files that survive .dockerignore. As with
      // `docker build`, .dockerignore itself is copied (it does not list itself); the Dockerfile is not.
      const copied = lines.filter((line) => line.startsWith('/ctx/')).sort()
      expect(copied).toEqual([
        '/ctx/.dockerignore',
        '/ctx/busybox',
        '/ctx/keep.log',
        '/ctx/package.json',
        '/ctx/src/index.js',
      ])
      expect(built).toMatchObject({
        ref: `${repository}:c-0123456789ab`,
        tags: [`${repository}:c-0123456789ab`, `${repository}:latest`],
      })
      expect(built.sizeBytes).toBeGreaterThan(500_000)
      expect(await builder.hasImage(`${repository}:latest`)).toEqual({
        id: built.id,
        sizeBytes: built.sizeBytes,
      })
      expect(await builder.listImages(repository)).toEqual([
        expect.objectContaining({
          id: built.id,
          tags: expect.arrayContaining([`${repository}:latest`, built.ref]),
        }),
      ])
    })

    it('reports a failing step with its output and exit code 4', async () => {
      const req = await request(
        'fail',
        {},
        'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","sh","-c","echo boom-output; exit 3"]\n',
      )
      const lines: string[] = []
      const error = await builder.build(req, (line) => lines.push(line)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(BuildError)
      const buildError = error as BuildError
      expect(buildError.exitCode).toBe(ExitCode.BuildFailed)
      expect(buildError.message).toContain(`at ${kind.failingStep}`)
      expect(buildError.message).toContain(kind.exitCode3)
      expect(buildError.details).toContain('boom-output')
      expect(buildError.where).toBe(req.dockerfilePath)
      expect(lines).toContain('boom-output')
      expect(await builder.hasImage(`${req.repository}:${req.tag}`)).toBeNull()
    })

    it('names the Dockerfile line the engine cannot parse, as bad input (exit 2)', async () => {
      const req = await request('syntax', {}, 'FROM scratch\nFORM busybox\nCOPY busybox /bin/\n')
      await expect(builder.build(req)).rejects.toMatchObject({
        exitCode: ExitCode.BadInput,
        message: `${req.dockerfilePath} line 2: unknown instruction: FORM`,
        where: `${req.dockerfilePath}:2`,
      })
    })

    it('runs two builds at once', async () => {
      const [first, second] = await Promise.all([
        request('par-a', {'a.txt': 'a\n'}, 'FROM scratch\nCOPY busybox a.txt /\n'),
        request('par-b', {'b.txt': 'b\n'}, 'FROM scratch\nCOPY busybox b.txt /\n'),
      ])
      const built = await Promise.all([builder.build(first), builder.build(second)])
      expect(built.map((image) => image.ref)).toEqual([
        `${first.repository}:${first.tag}`,
        `${second.repository}:${second.tag}`,
      ])
      expect(await builder.hasImage(built[0].ref)).not.toBeNull()
      expect(await builder.hasImage(built[1].ref)).not.toBeNull()
    })

    it('builds the stage the request names (dev), and the last one without a target', async () => {
      const dockerfile =
        'FROM scratch AS dev\nCOPY busybox /\nLABEL stage=dev\n\nFROM scratch AS runtime\nCOPY busybox /\nLABEL stage=runtime\n'
      const dev = await request('target-dev', {}, dockerfile)
      const runtime = await request('target-runtime', {}, dockerfile)
      const [devImage, runtimeImage] = await Promise.all([
        builder.build({...dev, target: 'dev'}),
        builder.build(runtime),
      ])
      const labels = async (ref: string): Promise<Record<string, string> | undefined> =>
        ((await testDocker().getImage(ref).inspect()) as {Config: {Labels?: Record<string, string>}}).Config
          .Labels
      expect(await labels(devImage.ref)).toMatchObject({stage: 'dev'})
      expect(await labels(runtimeImage.ref)).toMatchObject({stage: 'runtime'})
    })

    it('stops a build when its signal aborts', async () => {
      const req = await request(
        'abort',
        // New content each run, so the sleeping step runs instead of coming from the build cache.
        {'nonce.txt': randomUUID()},
        'FROM scratch\nCOPY busybox nonce.txt /bin/\nRUN ["/bin/busybox","sleep","30"]\n',
      )
      const controller = new AbortController()
      const started = performance.now()
      const building = builder.build({...req, signal: controller.signal}, (line) => {
        if (kind.runStep.test(line)) setTimeout(() => controller.abort(), 200)
      })
      await expect(building).rejects.toBeInstanceOf(InterruptedError)
      expect(performance.now() - started).toBeLessThan(20_000)
    })

    it('leaves a Dockerfile that .dockerignore lists out of the image, as docker build does', async () => {
      const req = await request(
        'ignored-dockerfile',
        {'.dockerignore': 'Dockerfile\n', 'app.txt': `${randomUUID()}\n`},
        'FROM scratch\nCOPY . /ctx\nRUN ["/ctx/busybox", "find", "/ctx", "-type", "f"]\n',
      )
      const lines: string[] = []
      await builder.build(req, (line) => lines.push(line))
      expect(lines.filter((line) => line.startsWith('/ctx/')).sort()).toEqual([
        '/ctx/.dockerignore',
        '/ctx/app.txt',
        '/ctx/busybox',
      ])
    })

    it('sends an empty folder, so COPY finds it and COPY . keeps it', async () => {
      const req = await request(
        'empty-folder',
        {'app.txt': `${randomUUID()}\n`},
        'FROM scratch\nCOPY busybox /bin/\nCOPY uploads /data/uploads\nCOPY . /ctx\n' +
          'RUN ["/bin/busybox", "find", "/data", "/ctx/uploads", "-type", "d"]\n',
      )
      await mkdir(path.join(req.context.dir, 'uploads'))
      const rescanned = {...req, context: await BuildContext.scan(req.context.dir, req.dockerfilePath)}
      const lines: string[] = []
      await builder.build(rescanned, (line) => lines.push(line))
      expect(lines).toEqual(expect.arrayContaining(['/data/uploads', '/ctx/uploads']))
    })

    it('names a context file deleted between the scan and the build (bad input, not the engine)', async () => {
      const req = await request(
        'vanished',
        {'data/big.bin': 'x'.repeat(4_000_000)},
        'FROM scratch\nCOPY . /\n',
      )
      await rm(path.join(req.context.dir, 'data/big.bin'))
      await expect(builder.build(req)).rejects.toMatchObject({
        exitCode: ExitCode.BadInput,
        message: expect.stringContaining('cannot read data/big.bin'),
      })
    })

    it('removes an image tag and says when there was none', async () => {
      const req = await request('rm', {}, 'FROM scratch\nCOPY busybox /\n')
      const built = await builder.build(req)
      expect(await builder.removeImage(built.ref)).toBe(true)
      expect(await builder.hasImage(built.ref)).toBeNull()
      expect(await builder.removeImage(built.ref)).toBe(false)
    })

    it('turns a request the engine refuses (an invalid tag) into a build failure', async () => {
      const req = await request('badtag', {}, 'FROM scratch\nCOPY busybox /\n', 'Not:A:Tag')
      await expect(builder.build(req)).rejects.toMatchObject({exitCode: ExitCode.BuildFailed})
    })
  },
)

describe.skipIf(!dockerAvailable && !inCI)('DockerImageBuilder with BuildKit: the context', () => {
  const builder = new DockerImageBuilder(dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`}))
  const repositories: string[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const repository of repositories) await removeTestImages(repository)
    await Promise.all(dirs.map(removeDir))
  })

  it('copies a route-group folder and a symlinked file, whose target BuildKit reads through the link', async () => {
    const nonce = randomUUID()
    const dir = await busyboxContext({
      'app/(site)/page.html': `<p>${nonce}</p>\n`,
      'conf/prod.conf': `mode=prod ${nonce}\n`,
      'conf/test.conf': 'mode=test\n',
    })
    dirs.push(dir)
    await symlink('conf/prod.conf', path.join(dir, 'app.conf'))
    const dockerfileText =
      'FROM scratch\nCOPY busybox /bin/busybox\nCOPY ["app/(site)", "/site"]\nCOPY app.conf /etc/\n' +
      'RUN ["/bin/busybox", "sh", "-c", "cat /site/page.html /etc/app.conf"]\n'
    const repository = testRepository('followed')
    repositories.push(repository)
    const lines: string[] = []
    await builder.build(
      {
        context: await BuildContext.scan(dir),
        dockerfileText,
        dockerfilePath: path.join(dir, 'Dockerfile'),
        repository,
        tag: 'c-000000000001',
      },
      (line) => lines.push(line),
    )
    expect(lines).toContain(`<p>${nonce}</p>`)
    expect(lines).toContain(`mode=prod ${nonce}`)
  })

  it('sends only the files that changed since the last build of the same folder', async () => {
    const pages = Object.fromEntries(
      Array.from({length: 40}, (_, index) => [`app/page-${index}.html`, `<p>${randomUUID()}</p>\n`]),
    )
    const dir = await busyboxContext({...pages, Dockerfile: 'FROM scratch\nCOPY . /srv\n'})
    dirs.push(dir)
    const repository = testRepository('resend')
    repositories.push(repository)
    const build = async (tag: string): Promise<string[]> => {
      const lines: string[] = []
      await builder.build(
        {
          context: await BuildContext.scan(dir, path.join(dir, 'Dockerfile')),
          dockerfileText: 'FROM scratch\nCOPY . /srv\n',
          dockerfilePath: path.join(dir, 'Dockerfile'),
          repository,
          tag,
        },
        (line) => lines.push(line),
      )
      return lines.filter((line) => line.startsWith('context: '))
    }

    // 40 pages, busybox and the Dockerfile.
    expect(await build('c-000000000001')).toEqual([
      expect.stringMatching(/^context: sent all 42 files the build reads \(\d+\.\d MB\)$/),
    ])
    await writeFiles(dir, {'app/page-7.html': '<p>edited</p>\n'})
    expect(await build('c-000000000002')).toEqual([
      'context: sent 1 of the 42 files the build reads (14 B); the engine had the rest',
    ])
  })
})

describe.skipIf(!dockerAvailable && !inCI)('probeBuilder on the real engine (what doctor reports)', () => {
  it('finds BuildKit, and a session opened and closed at once leaves nothing behind to crash on', async () => {
    const engine = dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`})
    const version = await engine.docker.version()
    // Node's HTTP/2 used to crash (an uncaught TypeError) about once in a hundred such sessions.
    for (let round = 0; round < 200; round++)
      expect(await probeBuilder(engine, version)).toEqual({
        builder: 'buildkit',
        reason: 'the engine opened a BuildKit session',
      })
  })
})

describe('DockerImageBuilder without an engine', () => {
  const missing = new DockerImageBuilder(dockerFromEnv({DOCKER_HOST: 'unix:///tmp/todo-deploy-no-such.sock'}))

  it('says the engine is unreachable (exit 3) and how to fix it', async () => {
    const dir = await busyboxContext()
    try {
      const build = missing.build({
        context: await BuildContext.scan(dir),
        dockerfileText: 'FROM scratch\n',
        dockerfilePath: '/x/Dockerfile',
        repository: testRepository('unreachable'),
        tag: 'c-000000000000',
      })
      await expect(build).rejects.toBeInstanceOf(PrerequisiteError)
      await expect(build).rejects.toMatchObject({
        exitCode: ExitCode.Prerequisite,
        message: expect.stringContaining('unix:///tmp/todo-deploy-no-such.sock'),
        fix: expect.stringContaining('start Docker'),
      })
      await expect(missing.hasImage('todo-frontend:latest')).rejects.toMatchObject({
        exitCode: ExitCode.Prerequisite,
      })
      await expect(missing.listImages('todo-frontend')).rejects.toMatchObject({
        exitCode: ExitCode.Prerequisite,
      })
    } finally {
      await removeDir(dir)
    }
  })

  it('reports a refused TCP engine (e.g. a stopped minikube) the same way', async () => {
    const tcp = new DockerImageBuilder(dockerFromEnv({DOCKER_HOST: 'tcp://127.0.0.1:1'}))
    await expect(tcp.hasImage('todo-backend:latest')).rejects.toMatchObject({
      exitCode: ExitCode.Prerequisite,
      message: expect.stringContaining('tcp://127.0.0.1:1'),
    })
  })
})
