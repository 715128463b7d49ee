import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {describe, expect, onTestFinished, test, vi} from 'vitest'

import {useDependencies} from '../../src/cli/dependencies.js'
import Dev from '../../src/commands/dev.js'
import Doctor from '../../src/commands/doctor.js'
import Up from '../../src/commands/up.js'
import {ContentTagger} from '../../src/lib/image/content-tag.js'
import {PrerequisiteError} from '../../src/lib/errors.js'
import type {Connection} from '../../src/lib/lifecycle/ports.js'
import {TEST_SECRET_NAMES} from '../support/fake-connection.js'
import {tempProject} from '../support/lifecycle-fixtures.js'
import {runCommand, type CommandClass} from '../support/run-command.js'

/** What every adapter says when minikube is stopped: exit 3, "prerequisite missing". */
function noCluster(): PrerequisiteError {
  return new PrerequisiteError(
    'cannot reach the Kubernetes API at https://192.168.49.2:8443 (ECONNREFUSED)',
    {
      fix: 'is the cluster running? Check with `minikube status` (start it with `minikube start`)',
    },
  )
}

/** Any method of any port fails as a stopped cluster does; `describe()` (no call) still names it. */
function stoppedPort(): unknown {
  return new Proxy(
    {},
    {
      get: (_, name) =>
        name === 'then'
          ? undefined
          : name === 'describe'
            ? () => 'minikube profile minikube'
            : () => Promise.reject(noCluster()),
    },
  )
}

/** A connection to a cluster that is not running; the kube context itself is fine. */
function stoppedCluster(): Connection {
  const fixed: Record<string, unknown> = {
    context: 'minikube',
    server: 'https://192.168.49.2:8443',
    clusterKind: 'minikube',
    images: stoppedPort,
    // Hashing a build context needs no cluster.
    tagger: new ContentTagger(),
    close: () => {},
  }
  return new Proxy(fixed, {
    get: (target, name) => (typeof name === 'string' && name in target ? target[name] : stoppedPort()),
  }) as unknown as Connection
}

/** doctor's probes with the cluster stopped: every probe fails as missing. */
function stoppedProbes(): never {
  return new Proxy(
    {},
    {
      get: (_, name) =>
        name === 'then'
          ? undefined
          : () => {
              throw noCluster()
            },
    },
  ) as never
}

const config = (frontendLines: string[]): string =>
  [
    'services:',
    '  frontend:',
    ...frontendLines.map((line) => `    ${line}`),
    '  backend:',
    '    build: {context: backend, dockerfile: backend/Dockerfile}',
    '',
  ].join('\n')
const BUILD = 'build: {context: frontend, dockerfile: frontend/Dockerfile}'

/** The six inputs of issue 19 point 4: each wrong on its own, each decided without a cluster. */
const BAD_INPUTS: {name: string; yaml: string; message: RegExp; where: RegExp}[] = [
  {
    name: 'an upper-case image name',
    yaml: config([BUILD, 'image: {repository: Todo-Frontend}']),
    message: /has uppercase letters/,
    where: /todo-deploy\.yaml:4:25/,
  },
  {
    name: 'a build context that does not exist',
    yaml: config(['build: {context: web, dockerfile: web/Dockerfile}']),
    message: /the build context "web" does not exist/,
    where: /todo-deploy\.yaml:3:22/,
  },
  {
    name: 'a Dockerfile that does not exist',
    yaml: config(['build: {context: frontend, dockerfile: frontend/Dockerfile.prod}']),
    message: /the Dockerfile "frontend\/Dockerfile\.prod" does not exist/,
    where: /todo-deploy\.yaml:3:44/,
  },
  {
    name: 'a context symlink that escapes the project',
    yaml: config(['build: {context: linked, dockerfile: frontend/Dockerfile}']),
    message: /the build context "linked" is a symlink to .*, outside the project folder/,
    where: /todo-deploy\.yaml:3:22/,
  },
  {
    name: 'a secret written in env:',
    yaml: config([BUILD, 'env: {JWT_SECRET: test-secret-value-in-env}']),
    message: /JWT_SECRET has a literal value/,
    where: /todo-deploy\.yaml:4:23/,
  },
  {
    name: 'pullPolicy: Always for a loaded image',
    yaml: config([BUILD, 'image: {pullPolicy: Always}']),
    message: /imagePullPolicy is Always/,
    where: /todo-deploy\.yaml:4:25/,
  },
]

const BUILDING_COMMANDS: [string, CommandClass][] = [
  ['up', Up],
  ['dev', Dev],
]

function useStoppedCluster(): void {
  const restore = useDependencies({
    connect: () => ({connection: stoppedCluster(), stopChildren: () => {}}),
    preflight: stoppedProbes,
  })
  vi.stubEnv('NO_COLOR', '1')
  for (const name of TEST_SECRET_NAMES) vi.stubEnv(name, `test-secret-value-${name}`)
  onTestFinished(() => {
    restore()
    vi.unstubAllEnvs()
  })
}

/** A project with the given todo-deploy.yaml and a `linked` folder symlinked to a folder outside it. */
function projectWith(yaml: string): string {
  const outside = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-outside-'))
  onTestFinished(() => rmSync(outside, {recursive: true, force: true}))
  const project = tempProject({files: {'todo-deploy.yaml': yaml}})
  symlinkSync(outside, path.join(project.dir, 'linked'))
  return project.dir
}

describe('local inputs first: with the cluster stopped, a bad input is still exit 2 naming file:line and the fix', () => {
  for (const input of BAD_INPUTS) {
    test.each(BUILDING_COMMANDS)(`%s: ${input.name}`, async (_, command) => {
      useStoppedCluster()
      const run = await runCommand(command, [], {cwd: projectWith(input.yaml)})
      expect({exitCode: run.exitCode, stderr: run.stderr}).toMatchObject({
        exitCode: 2,
        stderr: expect.stringMatching(input.message),
      })
      expect(run.stderr).toMatch(input.where)
      expect(run.stderr).toMatch(/\n {2}fix: \S/)
      expect(run.stderr).not.toContain('cannot reach the Kubernetes API')
      expect(run.stderr).not.toContain('test-secret-value')
    })

    test(`doctor: ${input.name} is exit 2 though the cluster is missing too`, async () => {
      useStoppedCluster()
      const run = await runCommand(Doctor, [], {cwd: projectWith(input.yaml)})
      expect(run.exitCode).toBe(2)
      expect(run.stdout).toMatch(input.message)
      expect(run.stdout).toMatch(/failed: the configuration breaks a rule, and a prerequisite is missing/)
    })
  }

  test('a good project with the cluster stopped is exit 3: the stopped cluster is what is wrong', async () => {
    useStoppedCluster()
    const run = await runCommand(Up, [], {cwd: projectWith(config([BUILD]))})
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('cannot reach the Kubernetes API')
  })
})
