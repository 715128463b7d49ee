import {describe, expect, onTestFinished, test} from 'vitest'

import {renderRollbackResult, renderUpResult} from '../../src/cli/operation-view.js'
import {renderStatus} from '../../src/cli/status-view.js'
import {DeployError} from '../../src/lib/errors.js'
import {runRollback} from '../../src/lib/lifecycle/rollback.js'
import {readStatus} from '../../src/lib/lifecycle/status.js'
import {runUp, type UpOptions} from '../../src/lib/lifecycle/up.js'
import {createTestProject, FakeCluster, testSecrets} from '../support/fake-connection.js'
import {HOLDER, NAMESPACE, RELEASE, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

/** A registry project deployed to a remote cluster whose frontend Service has no published address. */
function remoteSetup() {
  const p = createTestProject({
    extraConfig: [
      'cluster:',
      '  kind: remote',
      'registry:',
      '  url: localhost:5000/team',
      '  insecure: true',
    ].join('\n'),
  })
  onTestFinished(() => p.remove())
  const fake = new FakeCluster({context: 'gke_project_dev'})
  fake.useRegistry('localhost:5000/team')
  fake.asRemoteWithoutAddress()
  fake.kubeletFollowsHelm(p.resolved)
  const up = (overrides: Partial<UpOptions> = {}) =>
    runUp(p.resolved, fake.connection, testSecrets(), {...UP_OPTIONS, ...overrides})
  return {p, fake, up}
}

describe('up on a remote cluster that publishes no address', () => {
  test('health through the API server, a short-lived port-forward proves the app answers from here, url null and the way to reach it', async () => {
    const {fake, up} = remoteSetup()
    const result = await up()
    expect(result.state).toBe('Healthy')
    expect(result.url).toBeNull()
    expect(JSON.parse(JSON.stringify(result))).toMatchObject({url: null})
    expect(result.forwarding).toBeUndefined()
    // The health GETs go through the API server's proxy, as on a local cluster.
    expect(fake.log.count('api.serviceProxyGet')).toBe(2)
    expect(fake.log.named('reach.forward').map((call) => call.args.slice(0, 2))).toEqual([
      [NAMESPACE, 'todo-frontend-service'],
    ])
    expect(fake.reach.open).toBe(0)
    expect(result.phases.find((phase) => phase.phase === 'verify')?.detail).toContain(
      'answers through a port-forward',
    )
    // A port-forward ends with this process: the state record keeps no URL.
    const record = await fake.state.read(NAMESPACE, RELEASE)
    expect(record?.operation).toMatchObject({command: 'up', state: 'Healthy'})
    expect(record?.operation.url).toBeUndefined()
    const shown = renderUpResult(result)
    expect(shown).not.toMatch(/kubectl .*port-forward/)
    expect(shown.trim().split('\n').at(-1)).toBe(
      'the cluster publishes no address for the app: reach it on 127.0.0.1 with `todo-deploy up --port-forward` or `todo-deploy dev`',
    )
  })

  test('a port-forward that fails is a warning: the app answers through the API server and stays Healthy', async () => {
    const {fake, up} = remoteSetup()
    fake.reach.forwardFailure = new DeployError(
      'no Ready pod behind service todo-frontend-service to port-forward to',
    )
    const result = await up()
    expect(result.state).toBe('Healthy')
    expect(result.url).toBeNull()
    expect(result.warnings).toContain(
      'the app answers through the API server, but not through a port-forward from this machine: no Ready pod behind service todo-frontend-service to port-forward to',
    )
  })

  test('--port-forward: the URL is the forward on 127.0.0.1:8080, kept open until the signal aborts', async () => {
    const {fake, up} = remoteSetup()
    const interrupt = new AbortController()
    const result = await up({portForward: true, signal: interrupt.signal})
    expect(result).toMatchObject({state: 'Healthy', url: 'http://127.0.0.1:8080', forwarding: true})
    expect(fake.log.named('reach.forward').map((call) => call.args)).toEqual([
      [NAMESPACE, 'todo-frontend-service', {preferredLocalPort: 8080}],
    ])
    expect(fake.reach.open).toBe(1)
    expect(renderUpResult(result).trim().split('\n').slice(-2)).toEqual([
      'forwarding to the frontend until Ctrl-C (the app stays deployed):',
      'http://127.0.0.1:8080',
    ])
    interrupt.abort()
    await expect.poll(() => fake.reach.open).toBe(0)
  })

  test('--port-forward whose forward fails: up fails with that error (the user asked for the forward)', async () => {
    const {fake, up} = remoteSetup()
    fake.reach.forwardFailure = new DeployError(
      'the port-forward to service todo-frontend-service does not answer',
    )
    await expect(up({portForward: true, signal: new AbortController().signal})).rejects.toMatchObject({
      exitCode: 5,
      message: 'the port-forward to service todo-frontend-service does not answer',
    })
  })

  test('rollback too: url null and the way to reach the app, never a command line', async () => {
    const {p, fake, up} = remoteSetup()
    await up()
    p.write('backend/app/main.py', 'print("v2")\n')
    await up()
    const result = await runRollback(p.resolved, fake.connection, {
      timeoutMs: 300_000,
      holder: HOLDER,
      renderer: 'silent',
    })
    expect(result.state).toBe('Healthy')
    expect(result.url).toBeNull()
    expect(renderRollbackResult(result)).toContain('`todo-deploy up --port-forward`')
  })

  test('status: the frontend Service has no URL (null), not a command line', async () => {
    const {p, fake, up} = remoteSetup()
    await up()
    const report = await readStatus(p.resolved, fake.connection)
    expect(report.services.find((service) => service.name === 'todo-frontend-service')).toMatchObject({
      url: null,
    })
    expect(renderStatus(report)).not.toMatch(/port-forward/)
  })
})
