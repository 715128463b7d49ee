import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it, vi} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {PrerequisiteError} from '../../src/lib/errors.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {writeMinikubeKubeconfig} from '../support/minikube-kubeconfig.js'
import {projectRoot} from '../support/run-command.js'

// Each heavy package records when something first imports it; the real module is still returned.
const loaded = vi.hoisted(() => new Set<string>())
vi.mock('dockerode', async (importOriginal) => {
  loaded.add('dockerode')
  return importOriginal()
})
vi.mock('listr2', async (importOriginal) => {
  loaded.add('listr2')
  return importOriginal()
})
vi.mock('ora', async (importOriginal) => {
  loaded.add('ora')
  return importOriginal()
})
vi.mock('../../src/lib/kube/exec-file-sync.js', async (importOriginal) => {
  loaded.add('exec-file-sync')
  return importOriginal()
})

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
  dir = undefined
})

describe('start-up: what a command loads', () => {
  it('COMMANDS holds every command in src/commands, and loading them all loads neither dockerode, listr2 nor ora', async () => {
    const {COMMANDS} = await import('../../src/index.js')

    const files = readdirSync(path.join(projectRoot, 'src', 'commands'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.replace(/\.ts$/, ''))
    expect(Object.keys(COMMANDS).sort()).toEqual(files.sort())
    expect([...loaded]).toEqual([])
  })

  it('connect() wires status without dockerode; the first image call loads it', async () => {
    const {connect} = await import('../../src/lib/lifecycle/connect.js')
    dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-lazy-'))
    const kubeconfig = writeMinikubeKubeconfig(dir)
    const env = {KUBECONFIG: kubeconfig, XDG_CACHE_HOME: path.join(dir, 'cache')}

    const connection = connect(loadConfig({cwd: dir}), {runner: new ExecaProcessRunner(), env})
    const images = connection.images({DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}`})
    expect(loaded.has('dockerode')).toBe(false)

    // No engine listens there: the call fails as a missing prerequisite, after loading dockerode.
    await expect(images.hasImage('todo-frontend:c-0123456789ab')).rejects.toBeInstanceOf(PrerequisiteError)
    expect(loaded.has('dockerode')).toBe(true)
    connection.close()
  })

  it('connect() wires live sync without its exec adapter (and WebSocket client); the first sync loads it', async () => {
    const {connect} = await import('../../src/lib/lifecycle/connect.js')
    dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-lazy-'))
    const env = {KUBECONFIG: writeMinikubeKubeconfig(dir), XDG_CACHE_HOME: path.join(dir, 'cache')}

    const connection = connect(loadConfig({cwd: dir}), {runner: new ExecaProcessRunner(), env})
    expect(loaded.has('exec-file-sync')).toBe(false)

    // Interrupted before it reaches the cluster: the adapter is loaded all the same.
    const target = {namespace: 'todo-app', pod: 'frontend-1', container: 'frontend'}
    await expect(connection.fileSync.check(target, ['/app'], AbortSignal.abort())).rejects.toThrow()
    expect(loaded.has('exec-file-sync')).toBe(true)
    connection.close()
  })
})
