import {execFileSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {DockerfileParser} from 'dockerfile-ast'
import {beforeEach, describe, expect, test, vi} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {BuildContext} from '../../src/lib/image/build-context.js'
import {loadConfig} from '../../src/lib/config/load.js'
import {BUNDLED_SYNC_RULES, containerPathOf} from '../../src/lib/config/sync-rules.js'
import type {DoctorCheck} from '../../src/lib/doctor/doctor.js'
import {SPEC_A_SECRETS} from '../cli/doctor-env.js'
import {useBareMachine} from '../support/bare-machine.js'
import {helmBinary} from '../support/helm-binaries.js'
import {dockerAvailable, inCI} from '../support/real-components.js'
import {projectRoot, runCommand} from '../support/run-command.js'

// The README's first command is `cd examples/todo-chatbot && todo-deploy up`: the example must pass every
// check a machine without a cluster can pass, and fit the bundled Dockerfiles and chart as they are.
const example = path.join(projectRoot, 'examples', 'todo-chatbot')
const read = (...parts: string[]): string => readFileSync(path.join(...parts), 'utf8')

describe.skipIf(!dockerAvailable && !inCI)('examples/todo-chatbot: doctor with the real probes', () => {
  // A machine with Docker and helm but no cluster.
  useBareMachine(() => ({helm: helmBinary('v3')}))
  // The developer's own shell must not supply the secrets: they come from the example's files.
  beforeEach(() => {
    for (const name of SPEC_A_SECRETS) vi.stubEnv(name, undefined)
  })

  test('every check passes but the four that need a cluster', async () => {
    const run = await runCommand<DoctorCheck[]>(Doctor, ['--json'], {cwd: example})
    const checks = JSON.parse(run.stdout) as DoctorCheck[]
    const notPassing = checks.filter((check) => check.status !== 'pass').map((check) => check.id)
    expect(notPassing, run.stdout).toEqual([
      'prereq.kube-context',
      'prereq.minikube',
      'prereq.cluster',
      // Whether a fixed nodePort is free can only be asked of a cluster: skipped (a warning) without one.
      'cluster.node-port-free',
    ])
    expect(checks.find((check) => check.id === 'cluster.node-port-free')).toMatchObject({
      status: 'warn',
      detail: 'skipped: the cluster is not reachable',
    })
    const byId = new Map(checks.map((check) => [check.id, check]))
    expect(byId.get('prereq.docker')?.detail).toMatch(/^Docker Engine \S+/)
    expect(byId.get('prereq.helm')?.detail).toMatch(/^helm v3\./)
    expect(byId.get('secrets.present')?.detail).toBe(`4 set: ${SPEC_A_SECRETS.join(', ')}`)
    expect(checks.length).toBeGreaterThanOrEqual(20)
    expect(run.exitCode).toBe(3)
  })
})

describe('examples/todo-chatbot fits the bundled Dockerfiles and chart', () => {
  const resolved = loadConfig({cwd: example})

  test('todo-deploy.yaml keeps the defaults: frontend/ and backend/ with the bundled Dockerfiles and chart', () => {
    expect(resolved.configFile).toBe(path.join(example, 'todo-deploy.yaml'))
    expect(resolved.services.frontend).toEqual({
      contextDir: path.join(example, 'frontend'),
      dockerfile: path.join(projectRoot, 'docker', 'frontend.Dockerfile'),
      sync: BUNDLED_SYNC_RULES.frontend,
    })
    expect(resolved.services.backend).toEqual({
      contextDir: path.join(example, 'backend'),
      dockerfile: path.join(projectRoot, 'docker', 'backend.Dockerfile'),
      sync: BUNDLED_SYNC_RULES.backend,
    })
    expect(resolved.chartDir).toBe(path.join(projectRoot, 'manifests', 'todo-chatbot'))
    expect(resolved.config.release).toBe('todo-chatbot')
    expect(resolved.configMapData.NEXT_PUBLIC_API_URL).toBe('http://todo-backend-service:8080')
  })

  test('dev syncs its sources with no config: where the bundled dev stages hold them (WORKDIR /app)', () => {
    const frontend = read(projectRoot, 'docker', 'frontend.Dockerfile')
    const backend = read(projectRoot, 'docker', 'backend.Dockerfile')
    expect(stage(frontend, 'dev')).toMatchObject({workdir: '/app', cmd: expect.stringContaining('next dev')})
    // The backend's dev stage builds on its `app` stage, which holds the sources in /app.
    expect(stage(backend, 'app').workdir).toBe('/app')
    expect(stage(backend, 'dev').cmd).toContain('--reload')
    expect(containerPathOf(resolved.services.frontend.sync, 'app/page.js')).toBe('/app/app/page.js')
    expect(containerPathOf(resolved.services.backend.sync, 'main.py')).toBe('/app/main.py')
    // What the running process cannot take is not synced.
    expect(containerPathOf(resolved.services.frontend.sync, 'next.config.mjs')).toBeUndefined()
  })

  test('the secrets file holds placeholders only, and a real .env would be git-ignored', () => {
    expect(resolved.envFile).toBe(path.join(example, '.env.example'))
    const values = read(example, '.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.slice(line.indexOf('=') + 1))
    expect(values).toHaveLength(4)
    for (const value of values) expect(value).toContain('example-only')
    const ignored = (file: string): boolean => {
      try {
        execFileSync('git', ['check-ignore', '-q', path.join('examples', 'todo-chatbot', file)], {
          cwd: projectRoot,
        })
        return true
      } catch {
        return false
      }
    }
    expect(ignored('.env')).toBe(true)
    expect(ignored('.env.example')).toBe(false)
  })

  test.each(['frontend', 'backend'] as const)(
    '%s/.dockerignore is the bundled docker/%s.dockerignore',
    (service) => {
      expect(read(example, service, '.dockerignore')).toBe(
        read(projectRoot, 'docker', `${service}.dockerignore`),
      )
    },
  )

  test('the frontend build context sends the sources and the lockfile, never node_modules, .next or .env', async () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-example-frontend-'))
    try {
      cpSync(path.join(example, 'frontend'), copy, {
        recursive: true,
        filter: (source) => !/[/\\](node_modules|\.next)$/.test(source),
      })
      for (const planted of ['node_modules/next/package.json', '.next/BUILD_ID', '.env']) {
        mkdirSync(path.dirname(path.join(copy, planted)), {recursive: true})
        writeFileSync(path.join(copy, planted), 'planted')
      }
      const context = await BuildContext.scan(copy, resolved.services.frontend.dockerfile)
      expect(context.files).toEqual(
        expect.arrayContaining(['package.json', 'package-lock.json', 'next.config.mjs', 'app/page.jsx']),
      )
      expect(context.files.filter((file) => /^(node_modules|\.next)\/|^\.env$/.test(file))).toEqual([])
    } finally {
      rmSync(copy, {recursive: true, force: true})
    }
  })

  test('the frontend is what frontend.Dockerfile runs: `npm ci` from an in-sync lockfile, `npm run build`, `next start -p 3000`', () => {
    const manifest = JSON.parse(read(example, 'frontend', 'package.json')) as {
      scripts: Record<string, string>
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
    }
    const lock = JSON.parse(read(example, 'frontend', 'package-lock.json')) as {
      lockfileVersion: number
      packages: Record<string, {version?: string; dependencies?: object; devDependencies?: object}>
    }
    expect(manifest.scripts.build).toBe('next build')
    // `npm prune --omit=dev` runs before the runtime stage copies node_modules: `next start` needs these.
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['next', 'react', 'react-dom'])
    expect(lock.lockfileVersion).toBe(3)
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies)
    expect(lock.packages['']?.devDependencies).toEqual(manifest.devDependencies)
    expect(lock.packages['node_modules/next']?.version).toMatch(/^14\./)
    // The Alpine builder installs the musl build of Next.js's compiler: it must be in the lockfile.
    expect(lock.packages['node_modules/@next/swc-linux-x64-musl']).toBeDefined()

    const runtime = lastStage(read(projectRoot, 'docker', 'frontend.Dockerfile'))
    expect(runtime.cmd).toEqual([
      'node_modules/.bin/next',
      'start',
      '-p',
      String(resolved.config.services.frontend.port),
    ])
    expect(runtime.expose).toEqual([String(resolved.config.services.frontend.port)])
  })

  test("the backend is what backend.Dockerfile runs: requirements.txt, APP_MODULE's module and app, PORT, /health", () => {
    const dockerfile = read(projectRoot, 'docker', 'backend.Dockerfile')
    const args = argDefaults(dockerfile)
    const [moduleName, appName] = (args.APP_MODULE ?? '').split(':')
    expect(moduleName).toBe('main')
    const module = read(example, 'backend', `${moduleName}.py`)
    expect(module).toMatch(new RegExp(`^${appName} = `, 'm'))
    expect(module).toContain(`@app.get("${resolved.config.services.backend.healthPath}")`)
    expect(args.PORT).toBe(String(resolved.config.services.backend.port))
    const requirements = read(example, 'backend', 'requirements.txt')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => /^[A-Za-z0-9_.-]+/.exec(line)?.[0])
    expect(requirements).toEqual(['fastapi', 'uvicorn'])
  })
})

/** The runtime stage's CMD (exec form) and EXPOSE arguments. */
function lastStage(text: string): {cmd: string[]; expose: string[]} {
  const instructions = DockerfileParser.parse(text).getInstructions()
  const lastFrom = instructions.map((instruction) => instruction.getKeyword()).lastIndexOf('FROM')
  const stage = instructions.slice(lastFrom)
  const args = (keyword: string): string[] =>
    stage
      .filter((instruction) => instruction.getKeyword() === keyword)
      .flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue()))
  return {cmd: JSON.parse(args('CMD').join(' ')) as string[], expose: args('EXPOSE')}
}

/** The WORKDIR and CMD a named stage sets itself, if any. */
function stage(text: string, name: string): {workdir?: string; cmd?: string} {
  const instructions = DockerfileParser.parse(text).getInstructions()
  const start = instructions.findIndex(
    (instruction) =>
      instruction.getKeyword() === 'FROM' &&
      instruction.getArguments().at(-1)?.getValue().toLowerCase() === name,
  )
  expect(start).toBeGreaterThanOrEqual(0)
  const next = instructions.findIndex(
    (instruction, index) => index > start && instruction.getKeyword() === 'FROM',
  )
  const own = instructions.slice(start, next === -1 ? undefined : next)
  const content = (keyword: string): string | undefined =>
    own.find((instruction) => instruction.getKeyword() === keyword)?.getArgumentsContent() ?? undefined
  const workdir = content('WORKDIR')
  const cmd = content('CMD')
  return {...(workdir === undefined ? {} : {workdir}), ...(cmd === undefined ? {} : {cmd})}
}

/** `ARG NAME=default` values of the whole Dockerfile. */
function argDefaults(text: string): Record<string, string> {
  const defaults: Record<string, string> = {}
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() !== 'ARG') continue
    const [name, value] = instruction.getArgumentsContent()?.split('=') ?? []
    if (name && value !== undefined) defaults[name] = value
  }
  return defaults
}
