import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {execa} from 'execa'
import {afterEach, describe, expect, test} from 'vitest'

import {onOutputClosed} from '../../src/cli/closed-output.js'
import {kubeConfigFor, ReplayApiServer} from '../support/replay-api-server.js'
import {projectRoot} from '../support/run-command.js'

let server: ReplayApiServer | undefined
let dir: string | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
  if (dir) rmSync(dir, {recursive: true, force: true})
  dir = undefined
})

/** The recording's two pods of Deployment healthy-rollout (container `web`), release label instance=fx. */
const PODS = ['healthy-rollout-5d8ffc89b7-g5tfb', 'healthy-rollout-5d8ffc89b7-ztfmf']

describe('output into a closed pipe', () => {
  test('`todo-deploy logs -f | head -3` ends quietly with exit 0: no stack trace, no unhandled error event', async () => {
    server = await ReplayApiServer.start('healthy-rollout', {
      // From after the rollout: both pods run from the first request on.
      startAt: 6000,
      liveLogs: {lines: (pod, _container, instance) => [`${pod} #${instance} starting`]},
    })
    dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-epipe-'))
    const kubeconfig = path.join(dir, 'kubeconfig')
    // Named like minikube's context, so `cluster.kind: auto` knows it (logs never calls minikube).
    writeFileSync(kubeconfig, kubeConfigFor(server).exportConfig().replaceAll('replay', 'minikube'), {
      mode: 0o600,
    })
    writeFileSync(
      path.join(dir, 'todo-deploy.yaml'),
      [
        'release: fx',
        `namespace: ${server.namespace}`,
        'services:',
        '  frontend: {deployment: healthy-rollout, container: web}',
        '  backend: {enabled: false}',
        '',
      ].join('\n'),
    )
    // The app keeps logging, so the CLI keeps writing after `head` has gone: that write meets EPIPE.
    let line = 0
    const app = setInterval(() => {
      for (const pod of PODS) {
        try {
          server?.writeLog(pod, 'web', `request ${++line}`)
        } catch {
          // That container has not started yet in the replay.
        }
      }
    }, 50)
    try {
      // bash, so the pipe is a real pipe(2) and PIPESTATUS gives todo-deploy's own exit code.
      const child = execa(
        'bash',
        [
          '-c',
          `"${process.execPath}" "${path.join(projectRoot, 'bin', 'dev.js')}" logs -f | head -3; echo "todo-deploy exit $\{PIPESTATUS[0]}" >&2`,
        ],
        {
          cwd: dir,
          env: {KUBECONFIG: kubeconfig, NO_COLOR: '1', TODO_DEPLOY_CONFIG: ''},
          reject: false,
          timeout: 60_000,
          // Its own process group, so a todo-deploy that never ends is killed with the shell.
          detached: true,
        },
      )
      const run = await child.finally(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // The group has already ended.
        }
      })
      expect(run.stdout.split('\n')).toHaveLength(3)
      expect(run.stdout).toMatch(/^frontend 5d8f-(g5tfb|ztfmf) │ /m)
      // Nothing but the exit code: no stack trace, no "Unhandled 'error' event", no EPIPE message.
      expect(run.stderr).toBe('todo-deploy exit 0')
    } finally {
      clearInterval(app)
    }
  }, 90_000)
})

describe('onOutputClosed', () => {
  test('stops once on EPIPE and keeps the stream guarded; another error is not swallowed', async () => {
    const {EventEmitter} = await import('node:events')
    const stream = new EventEmitter()
    let stops = 0
    const release = onOutputClosed(stream, () => stops++)
    const epipe = Object.assign(new Error('write EPIPE'), {code: 'EPIPE'})
    stream.emit('error', epipe)
    stream.emit('error', Object.assign(new Error('write after end'), {code: 'ERR_STREAM_DESTROYED'}))
    release()
    // Still guarded after release: a write on the way out must not crash the process.
    stream.emit('error', epipe)
    expect(stops).toBe(1)

    const other = new EventEmitter()
    onOutputClosed(other, () => stops++)
    expect(() => other.emit('error', Object.assign(new Error('disk full'), {code: 'ENOSPC'}))).toThrow(
      'disk full',
    )
    expect(stops).toBe(1)
  })
})
