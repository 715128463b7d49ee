import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import os from 'node:os'
import path from 'node:path'

import which from 'which'

/**
 * A real Docker registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1 with a free port
 * and its storage in a temp folder, started by the test that needs it; `stop()` always removes both.
 */
export interface RunningRegistry {
  /** `127.0.0.1:PORT`: the registry host as Docker and `registry.url` name it. */
  host: string
  /** The credentials it accepts, when started with htpasswd auth. */
  login?: {username: string; password: string}
  stop(): Promise<void>
}

export const registryBinary = which.sync('docker-registry', {nothrow: true})
export const htpasswdBinary = which.sync('htpasswd', {nothrow: true})
/** Both programs the registry tests need (`.ci/run` installs them: docker-registry, apache2-utils). */
export const registryAvailable = registryBinary !== null && htpasswdBinary !== null

const READY_TIMEOUT_MS = 20_000

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port was assigned')
  return address.port
}

export async function startRegistry(
  options: {login?: {username: string; password: string}} = {},
): Promise<RunningRegistry> {
  if (registryBinary === null || htpasswdBinary === null)
    throw new Error('docker-registry and htpasswd are needed: apt-get install docker-registry apache2-utils')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-registry-'))
  let child: ChildProcess | undefined
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    await rm(dir, {recursive: true, force: true})
  }
  try {
    const port = await freePort()
    const host = `127.0.0.1:${port}`
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      'http:',
      `  addr: ${host}`,
    ]
    if (options.login) {
      const htpasswd = spawnSync(htpasswdBinary, ['-Bbn', options.login.username, options.login.password], {
        encoding: 'utf8',
      })
      if (htpasswd.status !== 0) throw new Error(`htpasswd failed: ${htpasswd.stderr}`)
      await writeFile(path.join(dir, 'htpasswd'), htpasswd.stdout)
      lines.push(
        'auth:',
        '  htpasswd:',
        '    realm: todo-deploy-test',
        `    path: ${path.join(dir, 'htpasswd')}`,
      )
    }
    const config = path.join(dir, 'config.yml')
    await writeFile(config, `${lines.join('\n')}\n`)
    const output: string[] = []
    child = spawn(registryBinary, ['serve', config], {stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    await waitForRegistry(host, child, output)
    return {host, login: options.login, stop}
  } catch (error) {
    await stop()
    throw error
  }
}

/** Until `/v2/` answers (200 open, 401 with auth), or the registry exits, or 20 s pass. */
async function waitForRegistry(host: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited ${child.exitCode}: ${output.join('')}`)
    try {
      const response = await fetch(`http://${host}/v2/`, {signal: AbortSignal.timeout(1000)})
      if (response.status === 200 || response.status === 401) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(
    `docker-registry on ${host} did not answer within ${READY_TIMEOUT_MS / 1000}s: ${output.join('')}`,
  )
}
