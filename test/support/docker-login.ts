import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * A Docker config folder of its own (DOCKER_CONFIG) and a real `docker-credential-<name>` helper
 * script on PATH, answering `get` for the given registries the way docker-credential-helpers do.
 * The user's ~/.docker is never read or written.
 */
export interface TestDockerLogin {
  /** The environment to run with: DOCKER_CONFIG and PATH set, the rest of process.env kept. */
  env: NodeJS.ProcessEnv
  configDir: string
  remove(): Promise<void>
}

export interface TestDockerLoginOptions {
  /** `config.json` as written by `docker login` (object, serialised here). */
  config: Record<string, unknown>
  /** Helper name → registry host → credentials it returns; any other host is "not found". */
  helpers?: Record<string, Record<string, {username: string; secret: string}>>
}

export async function testDockerLogin(options: TestDockerLoginOptions): Promise<TestDockerLogin> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-docker-login-'))
  const configDir = path.join(root, 'docker')
  const binDir = path.join(root, 'bin')
  await mkdir(configDir)
  await mkdir(binDir)
  await writeFile(path.join(configDir, 'config.json'), JSON.stringify(options.config, null, 2))
  for (const [name, logins] of Object.entries(options.helpers ?? {})) {
    const cases = Object.entries(logins)
      .map(
        ([host, login]) =>
          `  '${host}') printf '%s' '${JSON.stringify({ServerURL: host, Username: login.username, Secret: login.secret})}'; exit 0 ;;`,
      )
      .join('\n')
    // The protocol: the action as the argument, the registry on stdin, the answer as JSON on stdout.
    const script = [
      '#!/bin/sh',
      '[ "$1" = get ] || { echo "unsupported action: $1" >&2; exit 1; }',
      'server=$(cat)',
      'case "$server" in',
      cases,
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
      '',
    ].join('\n')
    const file = path.join(binDir, `docker-credential-${name}`)
    await writeFile(file, script)
    await chmod(file, 0o755)
  }
  return {
    env: {
      ...process.env,
      DOCKER_CONFIG: configDir,
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    },
    configDir,
    remove: () => rm(root, {recursive: true, force: true}),
  }
}
