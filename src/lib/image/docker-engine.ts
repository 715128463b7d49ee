import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Docker from 'dockerode'

import {PrerequisiteError} from '../errors.js'

/** A dockerode client plus the address it talks to, for messages ("Docker Engine at ... is not reachable"). */
export interface DockerEngine {
  docker: Docker
  address: string
  /**
   * Which builder to use: BuildKit when the engine has it (the default), or the classic builder when
   * `DOCKER_BUILDKIT=0` asks for it, as it does of the docker CLI.
   */
  builder: 'buildkit' | 'classic'
}

const START_DOCKER_FIX =
  'start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and run again; ' +
  "for minikube's engine check `minikube status` and `minikube docker-env`"

/**
 * Connects to the engine the given environment names, as the docker CLI reads it: `DOCKER_HOST`
 * (unix://, npipe://, tcp://, ssh://), `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`. Passing the output
 * of `minikube docker-env` targets minikube's engine. Every option is explicit, so nothing leaks in
 * from this process's own environment (dockerode reads `process.env` for whatever is left unset).
 */
/**
 * Every Engine call is bounded: the connection must open within 10 s, and a request (a build included)
 * that stays silent for 10 minutes is dropped, so a hung engine surfaces as an error instead of a hang.
 */
const BOUNDED = {connectionTimeout: 10_000, timeout: 600_000}

export function dockerFromEnv(env: Readonly<Record<string, string | undefined>>): DockerEngine {
  const builder = /^(0|false)$/i.test(env.DOCKER_BUILDKIT?.trim() ?? '') ? 'classic' : 'buildkit'
  return {...connectTo(env), builder}
}

/** The Engine API version that has BuildKit outside experimental mode (Docker 18.09). */
const BUILDKIT_API = [1, 39] as const

/**
 * Which builder a build on this engine uses: BuildKit on a Linux engine with API 1.39 or newer, unless
 * `DOCKER_BUILDKIT=0` asked for the classic builder (an engine that refuses the session also falls back).
 */
export function builderFor(
  engine: Pick<DockerEngine, 'builder'>,
  version: {Os?: string; ApiVersion?: string},
): 'buildkit' | 'classic' {
  if (engine.builder === 'classic' || version.Os !== 'linux') return 'classic'
  const [major = 0, minor = 0] = (version.ApiVersion ?? '').split('.').map(Number)
  const recent = major > BUILDKIT_API[0] || (major === BUILDKIT_API[0] && minor >= BUILDKIT_API[1])
  return recent ? 'buildkit' : 'classic'
}

function connectTo(env: Readonly<Record<string, string | undefined>>): Omit<DockerEngine, 'builder'> {
  const dockerHost = env.DOCKER_HOST?.trim() || undefined
  const noTls = {ca: undefined, cert: undefined, key: undefined, ...BOUNDED}

  if (dockerHost === undefined || dockerHost.startsWith('unix://') || dockerHost.startsWith('npipe://')) {
    const socketPath = dockerHost?.replace(/^(unix|npipe):\/\//, '') || defaultSocket(env)
    const address = dockerHost ?? `unix://${socketPath}`
    return {docker: new Docker({socketPath, host: undefined, protocol: 'http', ...noTls}), address}
  }

  let url: URL
  try {
    url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`)
  } catch {
    throw new PrerequisiteError(`DOCKER_HOST=${dockerHost} is not a valid Docker address`, {
      where: 'DOCKER_HOST',
      fix: 'set DOCKER_HOST to unix:///var/run/docker.sock, tcp://HOST:PORT or ssh://USER@HOST, or unset it',
    })
  }

  const base = {host: url.hostname, socketPath: undefined}
  if (url.protocol === 'ssh:') {
    const docker = new Docker({
      ...base,
      port: url.port || 22,
      protocol: 'ssh',
      username: url.username,
      ...noTls,
    })
    return {docker, address: dockerHost}
  }
  const tls =
    env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0'
  const port = url.port || (tls ? 2376 : 2375)
  if (!tls) return {docker: new Docker({...base, port, protocol: 'http', ...noTls}), address: dockerHost}
  return {
    docker: new Docker({...base, port, protocol: 'https', ...readCertificates(env), ...BOUNDED}),
    address: dockerHost,
  }
}

function defaultSocket(env: Readonly<Record<string, string | undefined>>): string {
  // Docker Desktop's per-user socket when it exists, like the docker CLI's default context.
  const userSocket = path.join(env.HOME ?? os.homedir(), '.docker', 'run', 'docker.sock')
  return existsSync(userSocket) ? userSocket : '/var/run/docker.sock'
}

function readCertificates(env: Readonly<Record<string, string | undefined>>): {
  ca: Buffer
  cert: Buffer
  key: Buffer
} {
  const certPath = env.DOCKER_CERT_PATH || path.join(env.HOME ?? os.homedir(), '.docker')
  try {
    return {
      ca: readFileSync(path.join(certPath, 'ca.pem')),
      cert: readFileSync(path.join(certPath, 'cert.pem')),
      key: readFileSync(path.join(certPath, 'key.pem')),
    }
  } catch (error) {
    throw new PrerequisiteError(`cannot read the Docker TLS certificates in ${certPath}`, {
      where: 'DOCKER_CERT_PATH',
      fix: 'point DOCKER_CERT_PATH at the folder holding ca.pem, cert.pem and key.pem (for minikube: `eval $(minikube docker-env)`)',
      cause: error,
    })
  }
}

const UNREACHABLE_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EACCES',
])

/** Whether an error says the engine cannot be reached (as opposed to the engine refusing a request). */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code !== undefined && UNREACHABLE_CODES.has(code)
}

/** The user-facing error for an engine that cannot be reached or went away mid-operation. */
export function engineUnreachableError(address: string, error: unknown, during?: string): PrerequisiteError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const reason = code === 'EACCES' ? 'permission denied' : code === undefined ? 'connection lost' : code
  return new PrerequisiteError(
    `Docker Engine at ${address} is not reachable${during === undefined ? '' : ` (${during})`}: ${reason}`,
    {
      where: address,
      fix:
        code === 'EACCES'
          ? 'add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or use a rootless Docker'
          : START_DOCKER_FIX,
      cause: error,
    },
  )
}
