import {existsSync, mkdirSync, mkdtempSync, renameSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seedDeployedRelease} from '../support/deployed-release.js'
import {dockerAvailable, inCI} from '../support/real-components.js'
import {projectRoot} from '../support/run-command.js'
import {createWiredMachineFiles, type WiredMachineFiles} from '../wiring/support/wired-machine.js'

// The tarball `npm pack` makes, installed into a temp prefix as `npm install -g` does, run as a user runs
// it: the bundle in dist/ (not the TypeScript sources) must work on its own.

const work = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-package-'))
const prefix = path.join(work, 'prefix')
const installed = path.join(prefix, 'lib', 'node_modules', 'todo-deploy')
const todoDeploy = path.join(prefix, 'bin', 'todo-deploy')
/** The bin script's `#!/usr/bin/env node` finds node on PATH. */
const nodeDir = path.dirname(process.execPath)
let packedFiles: string[] = []
let machine: WiredMachineFiles | undefined

beforeAll(async () => {
  for (const built of ['dist/run.js', 'dist/index.js', 'oclif.manifest.json'])
    if (!existsSync(path.join(projectRoot, built)))
      throw new Error(`${built} is missing: run \`npm run build\` first (npm run test:package does)`)
  const pack = await execa('npm', ['pack', '--json', '--pack-destination', work], {cwd: projectRoot})
  const [packed] = JSON.parse(pack.stdout) as {filename: string; files: {path: string}[]}[]
  if (!packed) throw new Error(`npm pack printed no package: ${pack.stdout}`)
  packedFiles = packed.files.map((file) => file.path)
  await execa(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      path.join(work, packed.filename),
    ],
    {cwd: work},
  )
})

afterAll(async () => {
  await machine?.remove()
  rmSync(work, {recursive: true, force: true})
})

function run(args: string[], env: Record<string, string> = {PATH: '/usr/bin:/bin', NO_COLOR: '1'}) {
  return execa(todoDeploy, args, {
    cwd: machine?.dir ?? work,
    env: {...env, PATH: `${nodeDir}:${env.PATH}`},
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  })
}

describe('the installed package', () => {
  it('holds the bundle, the manifest, the chart and the Dockerfiles, and no TypeScript source', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'bin/run.js',
        'dist/run.js',
        'dist/index.js',
        'dist/cli/help.js',
        'oclif.manifest.json',
        'manifests/todo-chatbot/Chart.yaml',
        'docker/frontend.Dockerfile',
        'docker/backend.Dockerfile',
      ]),
    )
    expect(packedFiles.filter((file) => file.startsWith('src/') || file.endsWith('.ts'))).toEqual([])
  })

  it('`todo-deploy --help` lists every command and the exit codes', async () => {
    const help = await run(['--help'])
    expect(help.stderr).toBe('')
    expect(help.exitCode).toBe(0)
    for (const command of ['doctor', 'down', 'rollback', 'status', 'up'])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'))
    expect(help.stdout).toContain('\nEXIT CODES\n')
  })

  it('--help, of the CLI and of a command, needs no command code (it comes from the manifest)', async () => {
    const commands = path.join(installed, 'dist', 'index.js')
    renameSync(commands, `${commands}.away`)
    try {
      const root = await run(['--help'])
      expect(root.exitCode, root.stderr).toBe(0)
      const status = await run(['status', '--help'])
      expect(status.exitCode, status.stderr).toBe(0)
      expect(status.stdout).toContain('Show the release, its state, every pod explained, and the URL.')
      expect(status.stdout).toContain('\nEXIT CODES\n')
    } finally {
      renameSync(`${commands}.away`, commands)
    }
  })

  describe.skipIf(!dockerAvailable && !inCI)(
    'against a cluster (fake API server, real helm 3, Docker Engine)',
    () => {
      beforeAll(async () => {
        machine = await createWiredMachineFiles('fake-api')
        // A project folder holds the two build contexts: doctor checks them before the cluster.
        for (const context of ['frontend', 'backend']) mkdirSync(path.join(machine.dir, context))
      })

      it('`todo-deploy doctor --json` passes every check, the bundled chart and Dockerfiles included', async () => {
        const doctor = await run(['doctor', '--json'], machine?.env)
        expect(doctor.exitCode, doctor.stderr).toBe(0)
        const checks = JSON.parse(doctor.stdout) as {id: string; status: string}[]
        expect(checks.filter((check) => check.status !== 'pass')).toEqual([])
        expect(checks.map((check) => check.id)).toEqual(
          expect.arrayContaining(['prereq.helm', 'prereq.cluster', 'image.non-root', 'chart.fields']),
        )
      })

      it('`todo-deploy status` reads a deployed release through client-node and the real helm', async () => {
        seedDeployedRelease(machine!.api)
        const status = await run(['status'], machine?.env)
        expect(status.stderr).toBe('')
        expect(status.exitCode).toBe(0)
        expect(status.stdout).toMatch(/^release +todo-chatbot in todo-app-dev: revision 1 deployed/m)
        expect(status.stdout).toMatch(/^state +Healthy: /m)
      })
    },
  )
})
