import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import Docker from 'dockerode'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkDockerfile, hasErrors} from '../../src/lib/rules/index.js'
import {projectRoot} from '../support/helm-template.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'

const FIXTURE = path.join(projectRoot, 'test', 'fixtures', 'dockerfiles', 'shaped')
interface BuildLine {
  error?: string
  aux?: {ID?: string}
}

const TAG = `todo-deploy-test-shaped:rules-${process.pid}`

// Under CI a missing engine must fail the run, not skip it.
describe.skipIf(!dockerAvailable && !inCI)(
  'a fixture image shaped like docker/*.Dockerfile, on the real Docker Engine',
  () => {
    const docker = new Docker({socketPath: dockerSocket})
    let context = ''
    let containerId: string | undefined
    /** The image of each stage (aux.ID lines): the builder stage's is no parent of TAG and would stay behind. */
    const stageImages: string[] = []

    beforeAll(async () => {
      context = mkdtempSync(path.join(tmpdir(), 'todo-deploy-shaped-'))
      for (const file of readdirSync(FIXTURE))
        copyFileSync(path.join(FIXTURE, file), path.join(context, file))
      copyFileSync('/bin/busybox', path.join(context, 'busybox'))
      const stream = await docker.buildImage(
        {context, src: ['Dockerfile', 'busybox', 'index.html']},
        {t: TAG, rm: true, forcerm: true},
      )
      const output = await new Promise<BuildLine[]>((resolve, reject) => {
        docker.modem.followProgress(stream, (error: Error | null, result: BuildLine[]) =>
          error ? reject(error) : resolve(result),
        )
      })
      for (const line of output) if (line.aux?.ID) stageImages.push(line.aux.ID)
      const failure = output.find((line) => line.error !== undefined)
      if (failure) throw new Error(`docker build failed: ${failure.error}`)
    })

    afterAll(async () => {
      if (containerId)
        await docker
          .getContainer(containerId)
          .remove({force: true})
          .catch(() => undefined)
      await docker
        .getImage(TAG)
        .remove({force: true})
        .catch(() => undefined)
      for (const id of stageImages)
        await docker
          .getImage(id)
          .remove()
          .catch(() => undefined)
      if (context) rmSync(context, {recursive: true, force: true})
    })

    it('passes checkDockerfile (scratch only warns) and Docker sees the same user, healthcheck and port', async () => {
      const violations = checkDockerfile(readFileSync(path.join(FIXTURE, 'Dockerfile'), 'utf8'), {
        path: 'test/fixtures/dockerfiles/shaped/Dockerfile',
        expectedUid: 1001,
      })
      expect(hasErrors(violations)).toBe(false)
      expect(violations.map((v) => `${v.id}:${v.severity}`)).toEqual([
        'image.alpine-base:warn',
        'image.alpine-base:warn',
      ])

      const image = await docker.getImage(TAG).inspect()
      expect(image.Config.User).toBe('1001:1001')
      expect(image.Config.Healthcheck?.Test).toEqual([
        'CMD',
        '/bin/busybox',
        'wget',
        '-qO-',
        'http://127.0.0.1:3000/',
      ])
      expect(Object.keys(image.Config.ExposedPorts ?? {})).toEqual(['3000/tcp'])
      // multi-stage: only the runtime stage's two files end up in the image, not the build context
      expect(image.Size).toBeLessThan(3_000_000)
    })

    it('runs as UID 1001 and its HEALTHCHECK turns healthy', async () => {
      const container = await docker.createContainer({Image: TAG, HostConfig: {NetworkMode: 'none'}})
      containerId = container.id
      await container.start()
      let health = ''
      for (let attempt = 0; attempt < 40 && health !== 'healthy'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        health = (await container.inspect()).State.Health?.Status ?? ''
      }
      expect(health).toBe('healthy')
      const exec = await container.exec({Cmd: ['/bin/busybox', 'id', '-u'], AttachStdout: true})
      const stream = await exec.start({})
      const chunks: Buffer[] = []
      await new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => resolve())
      })
      // multiplexed stream: 8-byte frame headers before the payload
      expect(Buffer.concat(chunks).subarray(8).toString().trim()).toBe('1001')
    })
  },
)
