import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {z} from 'zod'

import {BadInputError, PrerequisiteError} from '../errors.js'
import type {ProcessRunner} from '../process/runner.js'
import {RegistryCredential, type CredentialSecret} from './registry-credential.js'

/** The parts of `config.json` that hold credentials; Docker keeps many other keys there. */
const dockerConfigSchema = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        identitytoken: z.string().optional(),
      }),
    )
    .optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
})
type DockerConfig = z.infer<typeof dockerConfigSchema>

/** The answer of `docker-credential-<name> get`. */
const helperAnswerSchema = z.looseObject({Username: z.string(), Secret: z.string()})

/** A helper name becomes part of a program name: no paths, no options. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
/** Docker Hub's credentials are kept under its historical index address. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/'
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
/** A helper's username for an identity token instead of a password (docker-credential-helpers). */
const TOKEN_USERNAME = '<token>'
const HELPER_TIMEOUT_MS = 30_000

/** The key the Docker config (and `X-Registry-Config`) keeps a registry's login under. */
export function dockerConfigKey(host: string): string {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host
}

export interface DockerCredentialsOptions {
  runner: ProcessRunner
  /** `DOCKER_CONFIG` and `HOME` are read from here; helpers run with it. */
  env?: NodeJS.ProcessEnv
  helperTimeoutMs?: number
}

/**
 * The credentials `docker login` stored, found as the docker CLI finds them: a per-registry helper
 * (`credHelpers`), else the default store (`credsStore`), else the `auths` entry of `config.json`.
 * Helpers are the `docker-credential-<name>` programs, asked with `get` and the registry on stdin.
 */
export class DockerCredentials {
  private readonly env: NodeJS.ProcessEnv

  constructor(private readonly options: DockerCredentialsOptions) {
    this.env = options.env ?? process.env
  }

  /** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  configFile(): string {
    const dir = this.env.DOCKER_CONFIG || path.join(this.env.HOME || os.homedir(), '.docker')
    return path.join(dir, 'config.json')
  }

  /** The credentials for `host` (`registry.example.com`, `localhost:5000`), or null when there are none. */
  async forRegistry(host: string): Promise<RegistryCredential | null> {
    const file = this.configFile()
    const config = readDockerConfig(file)
    if (config === null) return null
    const key = dockerConfigKey(host)
    const helper = config.credHelpers?.[key] ?? config.credHelpers?.[host] ?? config.credsStore
    if (helper !== undefined && helper !== '') return this.fromHelper(helper, host, key, file)
    return fromAuths(config, host, key, file)
  }

  private async fromHelper(
    helper: string,
    host: string,
    key: string,
    file: string,
  ): Promise<RegistryCredential | null> {
    if (!HELPER_NAME.test(helper)) {
      throw new BadInputError(`the credential helper named in ${file} is not a program name`, {
        where: file,
        fix: 'set credsStore / credHelpers to a helper name such as "pass", "secretservice" or "desktop"',
      })
    }
    const program = `docker-credential-${helper}`
    let result
    try {
      result = await this.options.runner.run(program, ['get'], {
        input: key,
        env: this.env,
        timeoutMs: this.options.helperTimeoutMs ?? HELPER_TIMEOUT_MS,
      })
    } catch (error) {
      if (error instanceof PrerequisiteError) {
        throw new PrerequisiteError(`${program} (the credential helper ${file} names) cannot run`, {
          where: file,
          details: [error.message],
          fix: `install ${program} and put it on PATH, or remove it from ${file} and run \`docker login ${host}\``,
          cause: error,
        })
      }
      throw error
    }
    // A helper prints its answer (the secret) on stdout: only its exit code and the not-found words are used.
    if (result.exitCode !== 0) {
      if (/credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return null
      throw new PrerequisiteError(`${program} get failed (exit ${result.exitCode}) for ${host}`, {
        where: file,
        fix: `run \`echo ${key} | ${program} get\` to see why, or log in again: \`docker login ${host}\``,
      })
    }
    let answer
    try {
      answer = helperAnswerSchema.parse(JSON.parse(result.stdout))
    } catch {
      throw new PrerequisiteError(`${program} get answered something that is not its JSON for ${host}`, {
        where: file,
        fix: `check the helper on its own: \`echo ${key} | ${program} get\``,
      })
    }
    if (answer.Secret === '') return null
    const secret: CredentialSecret =
      answer.Username === TOKEN_USERNAME
        ? {kind: 'identity-token', token: answer.Secret}
        : {kind: 'password', username: answer.Username, password: answer.Secret}
    return new RegistryCredential(host, program, secret)
  }
}

function readDockerConfig(file: string): DockerConfig | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new PrerequisiteError(
      `cannot read the Docker config ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`,
      {where: file, fix: 'check its permissions, or point DOCKER_CONFIG at the folder holding config.json'},
    )
  }
  // Neither the parser's message nor zod's may quote the file: it holds credentials.
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new BadInputError(`the Docker config ${file} is not valid JSON`, {
      where: file,
      fix: 'repair it, or move it away and log in again with `docker login <host>`',
    })
  }
  const parsed = dockerConfigSchema.safeParse(json)
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((issue) => issue.path.slice(0, 2).join('.')))]
    throw new BadInputError(`the Docker config ${file} has unexpected values at ${keys.join(', ')}`, {
      where: file,
      fix: 'repair those keys, or move the file away and log in again with `docker login <host>`',
    })
  }
  return parsed.data
}

/** The `auths` entry for `host`; keys may be written as URLs (`https://host/v1/`), as older clients did. */
function fromAuths(config: DockerConfig, host: string, key: string, file: string): RegistryCredential | null {
  const auths = config.auths ?? {}
  const entry = auths[key] ?? Object.entries(auths).find(([name]) => authKeyHost(name) === host)?.[1]
  if (entry === undefined) return null
  const source = `the auths entry for ${host} in ${file}`
  if (entry.identitytoken)
    return new RegistryCredential(host, source, {kind: 'identity-token', token: entry.identitytoken})
  if (entry.username !== undefined && entry.password !== undefined && entry.username !== '')
    return new RegistryCredential(host, source, {
      kind: 'password',
      username: entry.username,
      password: entry.password,
    })
  if (!entry.auth) return null
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) {
    throw new BadInputError(`${source} is not "user:password" in base64`, {
      where: file,
      fix: `log in again: \`docker login ${host}\``,
    })
  }
  return new RegistryCredential(host, source, {
    kind: 'password',
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  })
}

/** `https://registry.example.com/v1/` → `registry.example.com` (the docker CLI's ConvertToHostname). */
function authKeyHost(key: string): string {
  const withoutScheme = key.replace(/^https?:\/\//, '')
  return withoutScheme.split('/')[0] ?? withoutScheme
}
