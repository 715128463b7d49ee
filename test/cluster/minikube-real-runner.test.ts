import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {MinikubeCluster} from '../../src/lib/cluster/minikube-cluster.js'
import {PrerequisiteError} from '../../src/lib/errors.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'

/**
 * The real ExecaProcessRunner against a fake `minikube` on PATH that behaves like `minikube service
 * --url` with the docker driver on macOS: prints a URL, then keeps the tunnel open.
 */
const FAKE_MINIKUBE = `#!/bin/sh
case "$*" in
  *"service todo-frontend-service"*)
    echo "* Starting tunnel for service todo-frontend-service."
    echo "http://127.0.0.1:52613"
    echo "! Because you are using a Docker driver on darwin, the terminal needs to be open to run it." >&2
    echo $$ > "$FAKE_MINIKUBE_PIDFILE"
    exec sleep 30 ;;
  *"service silent-service"*)
    echo "* Starting tunnel for service silent-service."
    echo $$ > "$FAKE_MINIKUBE_PIDFILE"
    exec sleep 30 ;;
  *" ip")
    echo "192.168.49.2" ;;
  *)
    echo "unexpected: $*" >&2
    exit 64 ;;
esac
`

describe('MinikubeCluster with the real process runner', () => {
  let dir: string
  let pidFile: string
  const originalPath = process.env.PATH

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-minikube-'))
    pidFile = join(dir, 'tunnel.pid')
    writeFileSync(join(dir, 'minikube'), FAKE_MINIKUBE)
    chmodSync(join(dir, 'minikube'), 0o755)
    process.env.PATH = `${dir}:${originalPath ?? ''}`
    process.env.FAKE_MINIKUBE_PIDFILE = pidFile
  })

  afterAll(() => {
    process.env.PATH = originalPath
    delete process.env.FAKE_MINIKUBE_PIDFILE
    rmSync(dir, {recursive: true, force: true})
  })

  function tunnelStillRunning(): boolean {
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }

  it('returns the first URL as soon as it is printed and stops the tunnel', async () => {
    const minikube = new MinikubeCluster(new ExecaProcessRunner(), {
      profile: 'minikube',
      timeouts: {serviceUrlMs: 20_000},
    })
    const started = Date.now()
    const url = await minikube.frontendUrl({
      service: 'todo-frontend-service',
      namespace: 'todo-app-dev',
      nodePort: 30080,
    })
    expect(url).toBe('http://127.0.0.1:52613')
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(tunnelStillRunning()).toBe(false)
  })

  it('gives up on a tunnel that prints no URL within its time, stops it, and uses minikube ip', async () => {
    const minikube = new MinikubeCluster(new ExecaProcessRunner(), {
      profile: 'minikube',
      timeouts: {serviceUrlMs: 1_500},
    })
    const started = Date.now()
    const url = await minikube.frontendUrl({
      service: 'silent-service',
      namespace: 'todo-app-dev',
      nodePort: 30080,
    })
    expect(url).toBe('http://192.168.49.2:30080')
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(tunnelStillRunning()).toBe(false)
  })

  it('says minikube is not installed when it is not on PATH', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'no-minikube-'))
    process.env.PATH = emptyDir
    try {
      const error = await new MinikubeCluster(new ExecaProcessRunner(), {profile: 'minikube'})
        .ensureRunning()
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(PrerequisiteError)
      expect((error as PrerequisiteError).fix).toContain('https://minikube.sigs.k8s.io/docs/start/')
    } finally {
      process.env.PATH = `${dir}:${originalPath ?? ''}`
      rmSync(emptyDir, {recursive: true, force: true})
    }
  })
})
