import {createServer, type Server} from 'node:http'
import {mkdtemp} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder, probeBuilder} from '../../src/lib/image/image-builder.js'
import {ExitCode} from '../../src/lib/errors.js'
import {busyboxContext, removeDir} from '../support/docker-fixtures.js'

/**
 * An engine stand-in on a unix socket: a BuildKit-capable version that refuses BuildKit sessions (as a
 * Docker-compatible engine can), so the build falls back to the classic builder; it accepts that build,
 * sends one step, then `ending` happens.
 */
async function flakyEngine(
  socketPath: string,
  ending: 'crash' | 'silent-end',
  requests: string[],
  session: 'refused' | 'unanswered' = 'refused',
): Promise<Server> {
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    request.resume()
    request.on('end', () => {
      if (request.url?.endsWith('/version')) {
        response.writeHead(200, {'Content-Type': 'application/json'})
        response.end(JSON.stringify({Os: 'linux', ApiVersion: '1.41'}))
        return
      }
      if (request.url?.endsWith('/session')) {
        // A proxy that swallows the upgrade: no answer at all.
        if (session === 'unanswered') return
        response.writeHead(404, {'Content-Type': 'application/json'})
        response.end(JSON.stringify({message: 'page not found'}))
        return
      }
      response.writeHead(200, {'Content-Type': 'application/json'})
      response.write('{"stream":"Step 1/2 : FROM scratch\\n"}\r\n')
      setTimeout(() => (ending === 'crash' ? response.socket?.destroy() : response.end()), 50)
    })
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return server
}

describe('DockerImageBuilder when the engine goes away mid-build', () => {
  const dirs: string[] = []
  let server: Server | undefined
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await Promise.all(dirs.splice(0).map(removeDir))
  })

  it.each([
    ['crash', 'refused'],
    ['silent-end', 'unanswered'],
  ] as const)(
    'reports a lost engine (%s) as a prerequisite error (exit 3), after the BuildKit session was %s',
    async (ending, session) => {
      const socketDir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-engine-'))
      const context = await busyboxContext()
      dirs.push(socketDir, context)
      const socketPath = path.join(socketDir, 'docker.sock')
      const requests: string[] = []
      server = await flakyEngine(socketPath, ending, requests, session)
      const builder = new DockerImageBuilder(dockerFromEnv({DOCKER_HOST: `unix://${socketPath}`}), {
        sessionUpgradeTimeoutMs: 300,
      })
      const lines: string[] = []

      const build = builder.build(
        {
          context: await BuildContext.scan(context),
          dockerfileText: 'FROM scratch\nCOPY busybox /\n',
          dockerfilePath: '/app/Dockerfile',
          repository: 'todo-frontend',
          tag: 'c-000000000000',
        },
        (line) => lines.push(line),
      )
      await expect(build).rejects.toMatchObject({
        exitCode: ExitCode.Prerequisite,
        message: expect.stringContaining(`Docker Engine at unix://${socketPath} is not reachable`),
        fix: expect.stringContaining('start Docker'),
      })
      expect(lines).toEqual(['Step 1/2 : FROM scratch'])
      // BuildKit first; refused or unanswered, the same build went to the classic builder (no version=2).
      expect(requests.map((line) => line.replace(/\?.*/, ''))).toEqual([
        'GET /version',
        'POST /session',
        'POST /build',
      ])
      expect(requests[2]).not.toContain('version=2')
    },
  )
})

describe('probeBuilder (what doctor reports)', () => {
  let server: Server | undefined
  const dirs: string[] = []
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await Promise.all(dirs.splice(0).map(removeDir))
  })

  it('says the classic builder builds, and why, when the engine refuses the BuildKit session', async () => {
    const socketDir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-engine-'))
    dirs.push(socketDir)
    const socketPath = path.join(socketDir, 'docker.sock')
    server = await flakyEngine(socketPath, 'silent-end', [])
    const engine = dockerFromEnv({DOCKER_HOST: `unix://${socketPath}`})
    expect(await probeBuilder(engine, {Os: 'linux', ApiVersion: '1.41'})).toEqual({
      builder: 'classic',
      reason: expect.stringMatching(/^the engine refused a BuildKit session: .*404/),
    })
  })

  it('says why without asking the engine when DOCKER_BUILDKIT=0 or the engine is too old', async () => {
    const engine = dockerFromEnv({DOCKER_HOST: 'unix:///tmp/todo-deploy-no-such.sock', DOCKER_BUILDKIT: '0'})
    expect(await probeBuilder(engine, {Os: 'linux', ApiVersion: '1.41'})).toEqual({
      builder: 'classic',
      reason: 'DOCKER_BUILDKIT=0',
    })
    const old = dockerFromEnv({DOCKER_HOST: 'unix:///tmp/todo-deploy-no-such.sock'})
    expect(await probeBuilder(old, {Os: 'linux', ApiVersion: '1.38'})).toEqual({
      builder: 'classic',
      reason: 'a linux engine with API 1.38',
    })
  })
})
