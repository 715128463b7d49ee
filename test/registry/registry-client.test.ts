import {createServer, type IncomingMessage, type Server} from 'node:http'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {ExitCode, TodoDeployError} from '../../src/lib/errors.js'
import {parseRegistryUrl} from '../../src/lib/registry/registry-address.js'
import {RegistryClient} from '../../src/lib/registry/registry-client.js'
import {RegistryCredential} from '../../src/lib/registry/registry-credential.js'
import {RegistryRefusedError, RegistryUnreachableError} from '../../src/lib/registry/registry-errors.js'
import {inCI} from '../support/real-components.js'
import {refusal, SENTINEL} from './refusal.js'
import {freePort, registryAvailable, startRegistry, type RunningRegistry} from '../support/registry-server.js'

const password = (host: string, secret = SENTINEL): RegistryCredential =>
  new RegistryCredential(host, 'test', {kind: 'password', username: 'ci', password: secret})

async function failure(promise: Promise<unknown>): Promise<TodoDeployError> {
  const error = await refusal(promise)
  expect(error.exitCode).toBe(ExitCode.Prerequisite)
  return error
}

describe.skipIf(!registryAvailable && !inCI)('RegistryClient against a real docker-registry 2.8', () => {
  let open: RunningRegistry
  let secured: RunningRegistry
  beforeAll(async () => {
    ;[open, secured] = await Promise.all([
      startRegistry(),
      startRegistry({login: {username: 'ci', password: SENTINEL}}),
    ])
  })
  afterAll(async () => {
    await open?.stop()
    await secured?.stop()
  })

  test('an open registry lets anyone in; a tag it does not have has no digest', async () => {
    const client = new RegistryClient(parseRegistryUrl(open.host, true), null)
    expect(await client.checkAccess()).toEqual({url: `http://${open.host}/v2/`, login: 'anonymous'})
    expect(await client.manifestDigest('team/todo-frontend', 'c-000000000001')).toBeNull()
  })

  test('htpasswd auth: the Basic challenge is answered with the Docker login', async () => {
    const address = parseRegistryUrl(secured.host, true)
    expect(await new RegistryClient(address, password(secured.host)).checkAccess()).toEqual({
      url: `http://${secured.host}/v2/`,
      login: 'credentials',
    })
    expect(
      await new RegistryClient(address, password(secured.host)).manifestDigest('todo-backend', 'x'),
    ).toBeNull()
  })

  test('no login for a registry that wants one: exit 3, `docker login <host>`', async () => {
    const error = await failure(new RegistryClient(parseRegistryUrl(secured.host, true), null).checkAccess())
    expect(error).toBeInstanceOf(RegistryRefusedError)
    expect(error.message).toBe(
      `registry ${secured.host} wants a login while checking the login (HTTP 401), and the Docker config has none for it`,
    )
    expect(error.fix).toBe(`log in: \`docker login ${secured.host}\``)
  })

  test('a wrong password: exit 3 naming the registry, the password nowhere', async () => {
    const client = new RegistryClient(
      parseRegistryUrl(secured.host, true),
      password(secured.host, `${SENTINEL}-wrong`),
    )
    const error = await failure(client.manifestDigest('todo-backend', 'c-1'))
    expect(error.message).toBe(
      `registry ${secured.host} refused the Docker credentials while reading the manifest of todo-backend:c-1 (HTTP 401)`,
    )
  })

  test('HTTPS to a plain-HTTP registry on this machine says to set registry.insecure', async () => {
    const error = await failure(new RegistryClient(parseRegistryUrl(open.host, false), null).checkAccess())
    expect(error).toBeInstanceOf(RegistryUnreachableError)
    expect(error.message).toMatch(
      new RegExp(`^registry ${open.host} is not reachable at https://${open.host}/v2/: `),
    )
    expect(error.fix).toContain('`registry.insecure: true`')
  })
})

describe('RegistryClient: a registry that denies the login (HTTP 403)', () => {
  test('a login the registry knows but does not let in: exit 3 naming the registry and `docker login <host>`', async () => {
    // As Harbor or a cloud registry answer a user without rights on the repository: Basic accepted, then 403.
    const server = createServer((request, response) => {
      if (request.headers.authorization === undefined) {
        response.writeHead(401, {'www-authenticate': 'Basic realm="registry"'})
        response.end()
        return
      }
      response.writeHead(403, {'content-type': 'application/json'})
      response.end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    try {
      const host = `127.0.0.1:${port}`
      const credential = new RegistryCredential(host, 'the auths entry in the test Docker config', {
        kind: 'password',
        username: 'reader',
        password: SENTINEL,
      })
      const error = await refusal(
        new RegistryClient(parseRegistryUrl(`${host}/team`, true), credential).manifestDigest(
          'team/todo-frontend',
          'c-1',
        ),
      )
      expect(error).toBeInstanceOf(RegistryRefusedError)
      expect(error.exitCode).toBe(ExitCode.Prerequisite)
      expect(error.message).toBe(
        `registry ${host} denied access while reading the manifest of team/todo-frontend:c-1 (HTTP 403)`,
      )
      expect(error.fix).toBe(`log in as a user allowed to push there: \`docker login ${host}\``)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('RegistryClient: unreachable registries', () => {
  test('a closed loopback port: exit 3 with the address tried', async () => {
    const port = await freePort()
    const error = await failure(
      new RegistryClient(parseRegistryUrl(`127.0.0.1:${port}/team`, true), null).checkAccess(),
    )
    expect(error.message).toBe(
      `registry 127.0.0.1:${port} is not reachable at http://127.0.0.1:${port}/v2/: ECONNREFUSED`,
    )
    expect(error.where).toBe(`http://127.0.0.1:${port}/v2/`)
  })

  test('a registry that never answers: exit 3 after the timeout, not a hang', async () => {
    const server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    try {
      const client = new RegistryClient(parseRegistryUrl(`127.0.0.1:${port}`, true), null, {timeoutMs: 300})
      const error = await failure(client.checkAccess())
      expect(error.message).toBe(
        `registry 127.0.0.1:${port} is not reachable at http://127.0.0.1:${port}/v2/: no answer within 300ms`,
      )
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

/**
 * A registry with distribution's token protocol (as Docker Hub, GHCR, Harbor use): `/v2/` challenges
 * with `Bearer realm=…`, the realm hands out a token for Basic credentials (GET) or an identity token
 * (OAuth2 POST), and only that token opens the API. Docker-registry 2.8 needs a signing certificate
 * and an external token server for this mode, so the protocol is played by this small server.
 */
describe('RegistryClient: the Bearer token challenge', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`
  let server: Server
  let host: string
  const requests: string[] = []
  const body = async (request: IncomingMessage): Promise<string> => {
    let text = ''
    for await (const chunk of request) text += String(chunk)
    return text
  }
  beforeAll(async () => {
    server = createServer((request, response) => {
      void (async () => {
        const url = new URL(request.url ?? '/', `http://${host}`)
        requests.push(`${request.method} ${url.pathname}${url.search}`)
        if (url.pathname === '/token') {
          const form = request.method === 'POST' ? new URLSearchParams(await body(request)) : undefined
          const basicOk =
            request.headers.authorization === `Basic ${Buffer.from(`ci:${SENTINEL}`).toString('base64')}`
          const refreshOk =
            form?.get('grant_type') === 'refresh_token' && form.get('refresh_token') === SENTINEL
          if (!basicOk && !refreshOk) return response.writeHead(401).end()
          const scope = url.searchParams.get('scope') ?? form?.get('scope') ?? ''
          const key = request.method === 'POST' ? 'access_token' : 'token'
          return response
            .writeHead(200, {'content-type': 'application/json'})
            .end(JSON.stringify({[key]: `tok(${scope})`}))
        }
        const scope = url.pathname.includes('/manifests/') ? 'repository:team/app:pull' : ''
        if (request.headers.authorization !== `Bearer tok(${scope})`) {
          return response
            .writeHead(401, {
              'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry"${scope ? `,scope="${scope}"` : ''}`,
            })
            .end()
        }
        if (url.pathname === '/v2/') return response.writeHead(200).end('{}')
        const accept = request.headers.accept ?? ''
        // Like a real registry, a client that does not accept schema 2 would get another digest.
        if (!accept.includes('application/vnd.docker.distribution.manifest.v2+json'))
          return response.writeHead(404).end()
        return response.writeHead(200, {'docker-content-digest': DIGEST}).end()
      })()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(server.address() as {port: number}).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  test('a user and password get a token for the repository scope, which reads the digest', async () => {
    requests.length = 0
    const client = new RegistryClient(parseRegistryUrl(`${host}/team`, true), password(host))
    expect(await client.manifestDigest('team/app', 'c-1')).toBe(DIGEST)
    expect(requests).toEqual([
      'HEAD /v2/team/app/manifests/c-1',
      'GET /token?service=test-registry&scope=repository%3Ateam%2Fapp%3Apull',
      'HEAD /v2/team/app/manifests/c-1',
    ])
    expect(await client.checkAccess()).toEqual({url: `http://${host}/v2/`, login: 'credentials'})
  })

  test('an identity token is exchanged through the OAuth2 form', async () => {
    const token = new RegistryCredential(host, 'test', {kind: 'identity-token', token: SENTINEL})
    expect(
      await new RegistryClient(parseRegistryUrl(host, true), token).manifestDigest('team/app', 'c-1'),
    ).toBe(DIGEST)
  })

  test('the token service refusing the login is exit 3 with `docker login`', async () => {
    const error = await failure(
      new RegistryClient(parseRegistryUrl(host, true), password(host, `${SENTINEL}-wrong`)).checkAccess(),
    )
    expect(error.message).toBe(
      `registry ${host} refused the Docker credentials while checking the login (HTTP 401)`,
    )
  })
})
