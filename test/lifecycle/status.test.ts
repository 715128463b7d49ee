import {describe, expect, test} from 'vitest'

import {renderStatus} from '../../src/cli/status-view.js'
import {DeployError, InterruptedError} from '../../src/lib/errors.js'
import {readStatus, watchStatus, type StatusReport} from '../../src/lib/lifecycle/status.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {
  FakeCluster,
  podObject,
  runningRelease,
  testSecrets,
  type TestProject,
} from '../support/fake-connection.js'
import {UP_OPTIONS as UP, tempProject, RELEASE, NAMESPACE} from '../support/lifecycle-fixtures.js'

const NOW = () => new Date('2026-11-21T20:02:00Z')

/** A project deployed once; the cluster's pods run what helm deployed. */
async function deployed(): Promise<{
  p: TestProject
  fake: FakeCluster
  tags: {frontend: string; backend: string}
}> {
  const p = tempProject()
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  const result = await runUp(p.resolved, fake.connection, testSecrets(), UP)
  return {p, fake, tags: {frontend: result.images[0]?.tag ?? '', backend: result.images[1]?.tag ?? ''}}
}

const CRASHING_POD = 'todo-backend-5d8ffc89b7-ztfmf'

/** The backend's pod crash-loops (3 exits with code 1) and its previous instance logged `lines`. */
function backendCrashLoops(
  p: TestProject,
  fake: FakeCluster,
  tags: {frontend: string; backend: string},
  lines: string[],
): void {
  const snapshot = runningRelease(p.resolved, tags)
  snapshot.pods = snapshot.pods.map((pod) =>
    pod.metadata?.name === CRASHING_POD
      ? podObject({
          name: CRASHING_POD,
          deployment: 'todo-backend',
          container: 'backend',
          image: `todo-backend:${tags.backend}`,
          condition: {crashLoop: {restarts: 3, exitCode: 1}},
        })
      : pod,
  )
  fake.workloads.publish(snapshot)
  fake.logs.tails.set(`${CRASHING_POD}/backend`, lines)
}

describe('status', () => {
  test('nothing deployed: release null, state NotDeployed, "not deployed", and leftover objects are not shown', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    // Objects labelled for the release without a Helm release (a half-done `down`) are read, not reported.
    fake.workloads.publish(
      runningRelease(p.resolved, {frontend: 'c-0123456789ab', backend: 'c-0123456789ab'}),
    )
    const report = await readStatus(p.resolved, fake.connection)
    expect(report).toEqual({
      release: null,
      state: 'NotDeployed',
      stateReason: 'no Helm release',
      lastOperation: null,
      deployments: [],
      pods: [],
      services: [],
      ingresses: [],
    })
    expect(renderStatus(report)).toBe('not deployed')
  })

  test('healthy after an up that verified health: the release, each deployment, pod and service, the URL', async () => {
    const {p, fake, tags} = await deployed()
    const report = await readStatus(p.resolved, fake.connection, {now: NOW})

    expect(report.state).toBe('Healthy')
    expect(report.stateReason).toBe('every pod is ready and the last health check passed')
    expect(report.release).toMatchObject({
      name: RELEASE,
      namespace: NAMESPACE,
      revision: 1,
      status: 'deployed',
      chart: 'todo-chatbot-chart',
      chartVersion: '1.0.0',
      description: 'Install complete',
    })
    expect(report.deployments.map((d) => [d.name, d.tags, d.condition, d.rolledOut])).toEqual([
      ['todo-backend', [tags.backend], 'rolled out', true],
      ['todo-frontend', [tags.frontend], 'rolled out', true],
    ])
    expect(
      report.pods.map((pod) => [pod.name, pod.ready, pod.explanation, pod.ageSeconds, pod.failing]),
    ).toEqual([
      ['todo-backend-5d8ffc89b7-ztfmf', '1/1', 'Running, ready', 120, false],
      ['todo-frontend-5d8ffc89b7-g5tfb', '1/1', 'Running, ready', 120, false],
    ])
    expect(report.services.find((service) => service.name === 'todo-frontend-service')).toMatchObject({
      type: 'NodePort',
      nodePort: 30080,
      url: 'http://192.168.49.2:30080',
    })
    expect(report.lastOperation).toMatchObject({
      command: 'up',
      result: 'succeeded',
      state: 'Healthy',
      revision: 1,
    })
    const text = renderStatus(report)
    expect(text).toContain('state      Healthy: every pod is ready and the last health check passed')
    expect(text).toContain('last operation: up succeeded')
  })

  test('a first install kept with --no-rollback: Failed, and says what to do', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.nextUpgrade = {kind: 'failed', message: 'Service "todo-frontend-service" is invalid'}
    await runUp(p.resolved, fake.connection, testSecrets(), {...UP, rollbackOnFailure: false}).catch(() => {})
    const report = await readStatus(p.resolved, fake.connection)
    expect(report.state).toBe('Failed')
    expect(report.stateReason).toBe(
      'the first install (revision 1) failed: Install "todo-chatbot" failed: Service "todo-frontend-service" is invalid; nothing of it ever ran: fix the cause and run `todo-deploy up` (it installs again), or `todo-deploy down` to remove it',
    )
  })

  test('every pod ready but the last health check failed: Running, not Healthy', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.kubeletFollowsHelm(p.resolved)
    fake.api.answers.set('todo-backend-service /health', 503)
    await runUp(p.resolved, fake.connection, testSecrets(), UP)
    const report = await readStatus(p.resolved, fake.connection)
    expect(report).toMatchObject({state: 'Running', stateReason: 'every pod is ready'})
  })

  test('every pod ready, but the lifecycle record is gone: Running (nothing verified health)', async () => {
    const {p, fake} = await deployed()
    await fake.state.delete(NAMESPACE, RELEASE)
    expect((await readStatus(p.resolved, fake.connection)).state).toBe('Running')
  })

  test('a crash-looping pod is explained with its exit code, restarts and last log line; state Failed', async () => {
    const {p, fake, tags} = await deployed()
    backendCrashLoops(p, fake, tags, ['starting uvicorn', 'KeyError: DATABASE_URL', ''])

    const report = await readStatus(p.resolved, fake.connection)

    const pod = report.pods.find((entry) => entry.name === CRASHING_POD)
    expect(pod).toMatchObject({
      explanation: 'CrashLoopBackOff: exited 1 3 times, last log line: KeyError: DATABASE_URL',
      restarts: 3,
      ready: '0/1',
      failing: true,
    })
    expect(report.state).toBe('Failed')
    expect(report.stateReason).toBe(
      `pod ${CRASHING_POD}: CrashLoopBackOff: exited 1 3 times, last log line: KeyError: DATABASE_URL`,
    )
    expect(renderStatus(report)).toContain(
      'CrashLoopBackOff: exited 1 3 times, last log line: KeyError: DATABASE_URL',
    )
  })

  test("a failed helm revision is Failed with helm's description", async () => {
    const {p, fake} = await deployed()
    p.write('backend/app/health', 'v2\n')
    fake.helm.nextUpgrade = {kind: 'failed', message: 'Deployment.apps "todo-backend" is invalid'}
    await runUp(p.resolved, fake.connection, testSecrets(), UP).catch(() => undefined)
    const report = await readStatus(p.resolved, fake.connection)
    expect(report.state).toBe('Failed')
    expect(report.stateReason).toBe(
      'revision 2 failed: Upgrade "todo-chatbot" failed: Deployment.apps "todo-backend" is invalid',
    )
  })
})

describe('status --watch', () => {
  test('a pod becoming ready: one report per watch change (not-ready, then ready) and the state moves to Healthy', async () => {
    const {p, fake, tags} = await deployed()
    fake.workloads.publish(runningRelease(p.resolved, tags, 'not-ready'))
    const controller = new AbortController()
    const reports: StatusReport[] = []
    const snapshotsBefore = fake.log.count('workloads.snapshot')

    const watching = watchStatus(p.resolved, fake.connection, controller.signal, (report) => {
      reports.push(report)
      if (reports.length === 1)
        setTimeout(() => fake.workloads.publish(runningRelease(p.resolved, tags, 'ready')), 5)
      else controller.abort()
    })
    await expect(watching).rejects.toBeInstanceOf(InterruptedError)

    expect(reports.map((report) => report.state)).toEqual(['Starting', 'Healthy'])
    expect(reports[0]?.stateReason).toBe('todo-backend: 0 of 1 updated replicas available')
    expect(reports[0]?.pods.map((pod) => pod.explanation)).toEqual([
      'Running, not ready',
      'Running, not ready',
    ])
    expect(reports[1]?.pods.map((pod) => pod.explanation)).toEqual(['Running, ready', 'Running, ready'])
    // The watch is the only source: no extra reads of the objects, one watch, the URL found once and kept.
    expect(fake.log.count('workloads.snapshot')).toBe(snapshotsBefore)
    expect(fake.log.count('workloads.watch')).toBe(1)
    expect(
      reports.map((report) => report.services.find((s) => s.name === 'todo-frontend-service')?.url),
    ).toEqual(['http://192.168.49.2:30080', 'http://192.168.49.2:30080'])
  })

  test('a report that cannot be built ends the watch with its error (no unhandled rejection)', async () => {
    const {p, fake, tags} = await deployed()
    const controller = new AbortController()
    const reports: StatusReport[] = []
    fake.logs.tail = async () => {
      throw new DeployError('cannot read the logs of todo-backend-5d8ffc89b7-ztfmf')
    }

    const watching = watchStatus(p.resolved, fake.connection, controller.signal, (report) => {
      reports.push(report)
      setTimeout(() => backendCrashLoops(p, fake, tags, []), 5)
    })

    await expect(watching).rejects.toThrow('cannot read the logs of todo-backend-5d8ffc89b7-ztfmf')
    expect(reports.map((report) => report.state)).toEqual(['Healthy'])
  })
})
