import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {loadConfig} from '../../src/lib/config/load.js'
import {connect} from '../../src/lib/lifecycle/connect.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {busyboxContext, removeDir} from '../support/docker-fixtures.js'
import {writeMinikubeKubeconfig} from '../support/minikube-kubeconfig.js'

/** An engine on a unix socket that builds anything at once with the classic builder, and records requests. */
async function classicEngine(socketPath: string, requests: string[]): Promise<Server> {
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url?.replace(/\?.*/, '')}`)
    request.resume()
    request.on('end', () => {
      response.setHeader('Content-Type', 'application/json')
      if (request.url?.startsWith('/build')) {
        response.end('{"stream":"Step 1/1 : FROM scratch\\n"}\r\n{"aux":{"ID":"sha256:0123456789ab"}}\r\n')
      } else if (request.url?.includes('/tag')) {
        response.writeHead(201).end()
      } else if (request.url?.endsWith('/json')) {
        response.end(JSON.stringify({Id: 'sha256:0123456789ab', Size: 1}))
      } else {
        response.end(JSON.stringify({Os: 'linux', ApiVersion: '1.41'}))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return server
}

describe('connect: the Docker Engine a build uses', () => {
  let dir = ''
  let server: Server | undefined
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    rmSync(dir, {recursive: true, force: true})
  })

  it("keeps the user's DOCKER_BUILDKIT=0 when minikube's docker-env names the engine", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-connect-'))
    const kubeconfig = writeMinikubeKubeconfig(dir)
    const socketPath = path.join(dir, 'minikube-docker.sock')
    const requests: string[] = []
    server = await classicEngine(socketPath, requests)
    const env = {KUBECONFIG: kubeconfig, XDG_CACHE_HOME: path.join(dir, 'cache'), DOCKER_BUILDKIT: '0'}
    const connection = connect(loadConfig({cwd: dir}), {runner: new ExecaProcessRunner(), env})
    const context = await busyboxContext()
    try {
      const images = connection.images({
        DOCKER_HOST: `unix://${socketPath}`,
        MINIKUBE_ACTIVE_DOCKERD: 'minikube',
      })
      await images.build({
        context: await BuildContext.scan(context),
        dockerfileText: 'FROM scratch\n',
        dockerfilePath: path.join(context, 'Dockerfile'),
        repository: 'todo-frontend',
        tag: 'c-000000000000',
      })
      // Straight to the classic builder: no version check, no BuildKit session.
      expect(requests[0]).toBe('POST /build')
      expect(requests).not.toContain('POST /session')
    } finally {
      connection.close()
      await removeDir(context)
    }
  })
})
