import {writeFile} from 'node:fs/promises'
import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {inspect} from 'node:util'

import {afterEach, describe, expect, test} from 'vitest'

import {ExitCode} from '../../src/lib/errors.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {DockerCredentials} from '../../src/lib/registry/docker-credentials.js'
import {refusal, SENTINEL} from './refusal.js'
import {testDockerLogin, type TestDockerLogin, type TestDockerLoginOptions} from '../support/docker-login.js'

const basic = (user: string, password: string): string =>
  Buffer.from(`${user}:${password}`).toString('base64')

const logins: TestDockerLogin[] = []
afterEach(async () => {
  await Promise.all(logins.splice(0).map((login) => login.remove()))
})

async function credentials(
  options: TestDockerLoginOptions,
): Promise<{store: DockerCredentials; login: TestDockerLogin}> {
  const login = await testDockerLogin(options)
  logins.push(login)
  return {store: new DockerCredentials({runner: new ExecaProcessRunner(), env: login.env}), login}
}

describe('DockerCredentials: the login `docker login` stored, found as the docker CLI finds it', () => {
  test('an auths entry (base64 user:password) for the host; printing it shows nothing of it', async () => {
    const {store, login} = await credentials({
      config: {auths: {'registry.example.com': {auth: basic('ci', SENTINEL)}}},
    })
    const credential = await store.forRegistry('registry.example.com')
    expect(credential?.reveal()).toEqual({kind: 'password', username: 'ci', password: SENTINEL})
    expect(credential?.source).toBe(
      `the auths entry for registry.example.com in ${path.join(login.configDir, 'config.json')}`,
    )
    const shown = [
      String(credential),
      `${credential}`,
      JSON.stringify({credential}),
      inspect(credential),
    ].join('\n')
    expect(shown).not.toContain(SENTINEL)
    expect(shown).not.toContain('ci')
  })

  test('auths keys written as URLs (older clients) and split username/password fields', async () => {
    const {store} = await credentials({
      config: {
        auths: {
          'https://registry.example.com/v1/': {auth: basic('url-user', SENTINEL)},
          'http://localhost:5000': {username: 'local', password: SENTINEL},
        },
      },
    })
    expect((await store.forRegistry('registry.example.com'))?.reveal()).toMatchObject({username: 'url-user'})
    expect((await store.forRegistry('localhost:5000'))?.reveal()).toMatchObject({username: 'local'})
    expect(await store.forRegistry('other.example.com')).toBeNull()
  })

  test("Docker Hub's login is kept under its index address", async () => {
    const {store} = await credentials({
      config: {auths: {'https://index.docker.io/v1/': {auth: basic('hub-user', SENTINEL)}}},
    })
    expect((await store.forRegistry('docker.io'))?.reveal()).toMatchObject({username: 'hub-user'})
  })

  test('credsStore: the docker-credential-<name> program is asked with `get` and the host on stdin', async () => {
    const {store} = await credentials({
      config: {credsStore: 'teststore', auths: {'registry.example.com': {}}},
      helpers: {teststore: {'registry.example.com': {username: 'from-store', secret: SENTINEL}}},
    })
    const credential = await store.forRegistry('registry.example.com')
    expect(credential?.source).toBe('docker-credential-teststore')
    expect(credential?.reveal()).toEqual({kind: 'password', username: 'from-store', password: SENTINEL})
    // The helper says "credentials not found": no login, not an error.
    expect(await store.forRegistry('unknown.example.com')).toBeNull()
  })

  test('credHelpers for the host win over credsStore and auths; `<token>` means an identity token', async () => {
    const {store} = await credentials({
      config: {
        credsStore: 'teststore',
        credHelpers: {'registry.example.com': 'perhost'},
        auths: {'registry.example.com': {auth: basic('from-file', 'x')}},
      },
      helpers: {
        perhost: {'registry.example.com': {username: '<token>', secret: SENTINEL}},
        teststore: {'registry.example.com': {username: 'from-store', secret: 'other'}},
      },
    })
    const credential = await store.forRegistry('registry.example.com')
    expect(credential?.source).toBe('docker-credential-perhost')
    expect(credential?.reveal()).toEqual({kind: 'identity-token', token: SENTINEL})
  })

  test('no config file: no login (DOCKER_CONFIG is read, never ~/.docker)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-home-'))
    try {
      const store = new DockerCredentials({
        runner: new ExecaProcessRunner(),
        env: {HOME: home, DOCKER_CONFIG: path.join(home, 'none')},
      })
      expect(store.configFile()).toBe(path.join(home, 'none', 'config.json'))
      expect(await store.forRegistry('registry.example.com')).toBeNull()
      // Without DOCKER_CONFIG: $HOME/.docker/config.json.
      mkdirSync(path.join(home, '.docker'))
      writeFileSync(
        path.join(home, '.docker', 'config.json'),
        JSON.stringify({auths: {'r.example.com': {auth: basic('home', 'x')}}}),
      )
      const fromHome = new DockerCredentials({runner: new ExecaProcessRunner(), env: {HOME: home}})
      expect((await fromHome.forRegistry('r.example.com'))?.reveal()).toMatchObject({username: 'home'})
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })

  test('a helper that is not installed: exit 3 naming the program, the config file and the fix', async () => {
    const {store, login} = await credentials({config: {credsStore: 'not-installed-here'}})
    const error = await refusal(store.forRegistry('registry.example.com'))
    expect(error.exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toBe(
      'docker-credential-not-installed-here (the credential helper ' +
        `${path.join(login.configDir, 'config.json')} names) cannot run`,
    )
    expect(error.fix).toMatch(/^install docker-credential-not-installed-here and put it on PATH/)
  })

  test('a helper that fails: exit 3, and what it printed (it could be the secret) is not repeated', async () => {
    const {store, login} = await credentials({config: {credsStore: 'broken'}})
    await writeFile(
      path.join(login.env.PATH?.split(path.delimiter)[0] ?? '', 'docker-credential-broken'),
      `#!/bin/sh\necho '${SENTINEL}'\necho 'keychain locked: ${SENTINEL}' >&2\nexit 3\n`,
      {mode: 0o755},
    )
    const error = await refusal(store.forRegistry('registry.example.com'))
    expect(error.exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toBe('docker-credential-broken get failed (exit 3) for registry.example.com')
    expect(error.fix).toContain('echo registry.example.com | docker-credential-broken get')
  })

  test('a Docker config that is not JSON, or holds odd values, is refused without quoting it', async () => {
    const {store, login} = await credentials({config: {}})
    const file = path.join(login.configDir, 'config.json')
    await writeFile(file, `{"auths": {"registry.example.com": {"auth": "${SENTINEL}"}},,}`)
    const broken = await refusal(store.forRegistry('registry.example.com'))
    expect([broken.exitCode, broken.message, broken.where]).toEqual([
      ExitCode.BadInput,
      `the Docker config ${file} is not valid JSON`,
      file,
    ])

    await writeFile(file, JSON.stringify({auths: {'registry.example.com': {auth: 42, password: [SENTINEL]}}}))
    const odd = await refusal(store.forRegistry('registry.example.com'))
    expect(odd.message).toBe(`the Docker config ${file} has unexpected values at auths.registry.example.com`)

    await writeFile(
      file,
      JSON.stringify({auths: {'registry.example.com': {auth: Buffer.from(SENTINEL).toString('base64')}}}),
    )
    const noColon = await refusal(store.forRegistry('registry.example.com'))
    expect(noColon.message).toMatch(/is not "user:password" in base64$/)
  })

  test('a helper name that is a path is refused (exit 2) instead of run', async () => {
    const {store} = await credentials({config: {credsStore: '../../bin/sh'}})
    const error = await refusal(store.forRegistry('registry.example.com'))
    expect(error.exitCode).toBe(ExitCode.BadInput)
    expect(error.message).toMatch(/is not a program name$/)
  })
})
