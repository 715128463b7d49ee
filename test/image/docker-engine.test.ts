import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {builderFor, dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {ExitCode} from '../../src/lib/errors.js'
import {removeDir} from '../support/docker-fixtures.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'

describe('dockerFromEnv', () => {
  const dirs: string[] = []
  afterAll(async () => Promise.all(dirs.map(removeDir)))

  it.skipIf(!dockerAvailable && !inCI)('reaches the engine named by DOCKER_HOST=unix://', async () => {
    const engine = dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`})
    expect(engine.address).toBe(`unix://${dockerSocket}`)
    expect(String(await engine.docker.ping())).toBe('OK')
  })

  it('uses TLS with the certificates of DOCKER_CERT_PATH, as `minikube docker-env` sets them', async () => {
    const certs = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-certs-'))
    dirs.push(certs)
    for (const file of ['ca.pem', 'cert.pem', 'key.pem'])
      await writeFile(path.join(certs, file), `fake ${file}\n`)
    const engine = dockerFromEnv({
      DOCKER_HOST: 'tcp://192.168.49.2:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certs,
    })
    expect(engine.address).toBe('tcp://192.168.49.2:2376')
    expect(engine.docker.modem).toMatchObject({host: '192.168.49.2', port: '2376', protocol: 'https'})
  })

  it('says which certificate folder is unreadable (exit 3)', () => {
    expect(() =>
      dockerFromEnv({
        DOCKER_HOST: 'tcp://192.168.49.2:2376',
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: '/nonexistent',
      }),
    ).toThrow(
      expect.objectContaining({
        exitCode: ExitCode.Prerequisite,
        message: expect.stringContaining('/nonexistent'),
      }),
    )
  })

  it('rejects a malformed DOCKER_HOST (exit 3)', () => {
    expect(() => dockerFromEnv({DOCKER_HOST: 'tcp://[bad'})).toThrow(
      expect.objectContaining({exitCode: ExitCode.Prerequisite, where: 'DOCKER_HOST'}),
    )
  })
})

describe('builderFor', () => {
  const engine = (env: Record<string, string>): ReturnType<typeof dockerFromEnv> =>
    dockerFromEnv({DOCKER_HOST: 'unix:///var/run/docker.sock', ...env})

  it('builds in BuildKit on a Linux engine with API 1.39 or newer', () => {
    expect(builderFor(engine({}), {Os: 'linux', ApiVersion: '1.41'})).toBe('buildkit')
    expect(builderFor(engine({}), {Os: 'linux', ApiVersion: '1.39'})).toBe('buildkit')
    expect(builderFor(engine({}), {Os: 'linux', ApiVersion: '2.0'})).toBe('buildkit')
  })

  it('uses the classic builder on an older or a Windows engine', () => {
    expect(builderFor(engine({}), {Os: 'linux', ApiVersion: '1.38'})).toBe('classic')
    expect(builderFor(engine({}), {Os: 'windows', ApiVersion: '1.47'})).toBe('classic')
    expect(builderFor(engine({}), {})).toBe('classic')
  })

  it('uses the classic builder when DOCKER_BUILDKIT=0 or false asks for it, as the docker CLI does', () => {
    for (const value of ['0', 'false', 'FALSE'])
      expect(builderFor(engine({DOCKER_BUILDKIT: value}), {Os: 'linux', ApiVersion: '1.47'})).toBe('classic')
    expect(builderFor(engine({DOCKER_BUILDKIT: '1'}), {Os: 'linux', ApiVersion: '1.47'})).toBe('buildkit')
  })
})
