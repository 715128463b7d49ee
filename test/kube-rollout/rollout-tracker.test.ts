import {describe, expect, it} from 'vitest'
import {ExitCode, InterruptedError, PrerequisiteError} from '../../src/lib/errors.js'
import {renderDiagnosis} from '../../src/lib/kube/rollout/diagnosis.js'
import {RolloutTracker, type RolloutOutcome} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {ReplayApiServer, connectionFor} from '../support/replay-api-server.js'
import {replay, trackReplay} from './replay-harness.js'

function failed(outcome: RolloutOutcome): Extract<RolloutOutcome, {status: 'failed'}> {
  if (outcome.status !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`)
  return outcome
}

describe('RolloutTracker against recorded Kubernetes 1.24 watch streams', () => {
  it('reports a healthy 2-replica rollout as rolled out once both pods are available', async () => {
    // The clock holds at t=5000, while the pods run but are not ready, until the tracker has said so: a
    // busy machine could otherwise miss that short window, whatever the replay speed.
    const server = await replay('healthy-rollout', {startAt: 2583, until: 5000})
    const {outcome, progress} = await trackReplay(server, {
      deployments: ['healthy-rollout'],
      onProgress: (p) => {
        if (p.state === 'Running, not ready') server.playUntil(Number.POSITIVE_INFINITY)
      },
    })
    expect(outcome).toEqual({
      status: 'rolled-out',
      deployments: [{name: 'healthy-rollout', replicas: 2, revision: '1', images: ['fx-web:v1']}],
    })
    // The Deployment reached 2/2 available at t=5644 (t=5640 still had 1 available): not before.
    expect(server.now()).toBeGreaterThanOrEqual(5644)
    expect(progress.at(-1)).toMatchObject({
      deployment: 'healthy-rollout',
      ready: 2,
      desired: 2,
      rolledOut: true,
    })
    expect(progress.map((p) => p.state)).toContain('Running, not ready')
  })

  it('waits in a rolling update v1 -> v2 until the old replicas are gone', async () => {
    // Started right after the apply (generation 2 not yet observed), like after `helm upgrade` returns.
    const server = await replay('rolling-update', {startAt: 2760})
    const {outcome} = await trackReplay(server)
    expect(outcome).toEqual({
      status: 'rolled-out',
      deployments: [{name: 'rolling-update', replicas: 2, revision: '2', images: ['fx-web:v2']}],
    })
    // Both new pods were ready at t=10904, but the old ReplicaSet still had a replica until t=10958.
    expect(server.now()).toBeGreaterThanOrEqual(10962)
  })

  it('fails at once on ErrImageNeverPull and says to load the image', async () => {
    const server = await replay('image-never-pull', {startAt: 2508})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('ErrImageNeverPull')
    expect(server.now()).toBeLessThan(10_000) // not at the timeout: the pod never changes after t=3418
    expect(diagnosis).toMatchObject({
      deployment: 'image-never-pull',
      pod: 'image-never-pull-96f55f4b7-9t6bv',
      container: 'web',
      message: 'Container image "fx-web:v9-never-loaded" is not present with pull policy of Never',
    })
    expect(diagnosis.fix).toContain('minikube image load fx-web:v9-never-loaded')
    expect(diagnosis.fix).toContain('without --no-build')
    expect(diagnosis.logs).toMatchObject({source: 'current', lines: []})
    expect(diagnosis.logs?.unavailable).toContain('is waiting to start: ErrImageNeverPull')
    expect(diagnosis.events.map((e) => `${e.type} ${e.reason}`)).toContain('Warning ErrImageNeverPull')
    expect(diagnosis.commands).toContain(
      'kubectl -n fx-image-never-pull logs image-never-pull-96f55f4b7-9t6bv -c web',
    )
  })

  it("tolerates a few restarts, then fails a crash loop with the previous container's logs", async () => {
    // The clock stops before t=48019, when the kubelet drops the crashed container and `--previous` stops
    // answering: at 40x a busy machine would otherwise let the log read land past it (a flaky test).
    const server = await replay('crash-loop', {startAt: 2513, until: 48_000, speed: 40})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('CrashLoopBackOff')
    // restartCount reached 3 at t=47222; the transient FailedMount warning at t=3895 did not end the wait.
    expect(server.now()).toBeGreaterThanOrEqual(47_222)
    expect(diagnosis.restartCount).toBe(3)
    expect(diagnosis.lastTerminated).toMatchObject({exitCode: 1, reason: 'Error'})
    expect(diagnosis.logs).toEqual({
      source: 'previous',
      lines: ['crash-loop: starting up', 'crash-loop: fatal: required config missing, exiting with status 1'],
    })
    expect(diagnosis.commands[0]).toBe(
      'kubectl -n fx-crash-loop logs crash-loop-6cdbc74d56-shwvb -c web --previous',
    )
    expect(diagnosis.events.map((e) => e.reason)).toContain('BackOff')
  })

  it('falls back to the current log when the kubelet no longer has the previous container', async () => {
    // At t=6300 the kubelet answers the previous log with "unable to retrieve container logs for containerd://...".
    const server = await replay('crash-loop', {startAt: 2513, until: 6300, speed: 40})
    const {diagnosis} = failed((await trackReplay(server, {crashLoopRestarts: 1})).outcome)
    expect(diagnosis.restartCount).toBe(1)
    expect(diagnosis.logs?.source).toBe('current')
    expect(diagnosis.logs?.lines.at(-1)).toBe(
      'crash-loop: fatal: required config missing, exiting with status 1',
    )
  })

  it('fails on OOMKilled with exit 137 and the 16Mi memory limit', async () => {
    const server = await replay('oom-killed', {startAt: 2508})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('OOMKilled')
    expect(server.now()).toBeLessThan(21_612) // at the first kill, not after the restarts
    expect(diagnosis.lastTerminated).toMatchObject({exitCode: 137, reason: 'OOMKilled'})
    expect(diagnosis.memoryLimit).toBe('16Mi')
    expect(diagnosis.logs?.lines).toEqual(['oom-killed: allocating ~64MB in a 16Mi container'])
    expect(diagnosis.fix).toContain('16Mi')
    expect(renderDiagnosis(diagnosis)).toContain('  Memory limit: 16Mi')
  })

  it('fails on ProgressDeadlineExceeded when readiness never passes, with the Unhealthy events', async () => {
    const server = await replay('readiness-never-passes', {startAt: 2513, speed: 40})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('ProgressDeadlineExceeded')
    expect(diagnosis.message).toBe(
      'ReplicaSet "readiness-never-passes-859c99b84d" has timed out progressing.',
    )
    expect(diagnosis.pod).toBe('readiness-never-passes-859c99b84d-6v2ld')
    const unhealthy = diagnosis.events.find((e) => e.reason === 'Unhealthy')
    expect(unhealthy).toMatchObject({
      type: 'Warning',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
    })
    expect(unhealthy?.count).toBeGreaterThan(10)
    expect(diagnosis.fix).toContain('readiness probe')
  })

  it('times out on a readiness probe that never passes, naming the probe failure', async () => {
    const server = await replay('readiness-never-passes', {startAt: 2513, until: 20_000, speed: 40})
    const {outcome} = await trackReplay(server, {timeoutMs: 1500})
    if (outcome.status !== 'timed-out') throw new Error(`expected a timeout, got ${outcome.status}`)
    expect(outcome.diagnosis).toMatchObject({
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
      container: 'web',
    })
    expect(outcome.diagnosis.events.some((e) => e.reason === 'Unhealthy')).toBe(true)
  })

  it("fails on Unschedulable with the scheduler's message and no log request", async () => {
    const server = await replay('unschedulable', {startAt: 2509})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('Unschedulable')
    expect(diagnosis.message).toContain('0/1 nodes are available: 1 Insufficient cpu')
    expect(diagnosis.logs).toBeUndefined()
    expect(diagnosis.commands).toEqual([
      'kubectl -n fx-unschedulable describe pod unschedulable-55cc9d8dcc-jnmhq',
    ])
    expect(diagnosis.events.map((e) => e.reason)).toContain('FailedScheduling')
  })

  it('fails on CreateContainerConfigError naming the missing Secret key', async () => {
    const server = await replay('missing-secret-key', {startAt: 2505})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('CreateContainerConfigError')
    expect(diagnosis.container).toBe('web')
    expect(diagnosis.message).toBe("couldn't find key api-key in Secret fx-missing-secret-key/fx-secret")
    expect(diagnosis.fix).toBe(
      'The Secret fx-missing-secret-key/fx-secret has no key api-key: set it in the environment or .env, then run `todo-deploy up` again.',
    )
  })

  it('fails on InvalidImageName', async () => {
    const server = await replay('invalid-image-name', {startAt: 2510})
    const {diagnosis, reason} = failed((await trackReplay(server)).outcome)
    expect(reason).toBe('InvalidImageName')
    expect(diagnosis.message).toContain('repository name must be lowercase')
    expect(diagnosis.fix).toContain('"Todo-Frontend:Latest" is not a valid image reference')
  })
})

describe('RolloutTracker when the watch or the API server goes away', () => {
  it('resumes a dropped watch from the last resourceVersion without missing the Ready transition', async () => {
    const server = await replay('healthy-rollout', {startAt: 2583})
    // Dropped before the pods got ready (t=5597/5635) and refused until after the rollout completed (t=5644).
    server.dropWatchesAt(5000, {refuseWatchesForMs: 1000})
    const {outcome} = await trackReplay(server, {deployments: ['healthy-rollout']})
    expect(outcome.status).toBe('rolled-out')
    const deploymentCalls = server.requests.filter((r) => r.path.endsWith('/deployments'))
    expect(deploymentCalls.filter((r) => r.query.watch === undefined)).toHaveLength(1) // one LIST: resumed, not re-listed
    const resumed = deploymentCalls.filter((r) => r.query.watch === 'true').at(-1)
    expect(Number(resumed?.query.resourceVersion)).toBeGreaterThan(
      Number(deploymentCalls[1]?.query.resourceVersion),
    )
  })

  it.each(['error-event', 'http-410'] as const)(
    're-lists when the resume version has expired (410 Gone as %s)',
    async (expiredWatch) => {
      const server = await replay('healthy-rollout', {startAt: 2583, expiredWatch})
      server.dropWatchesAt(5000, {refuseWatchesForMs: 1000, expireHistory: true})
      const {outcome} = await trackReplay(server, {deployments: ['healthy-rollout']})
      expect(outcome.status).toBe('rolled-out')
      const lists = server.requests.filter(
        (r) => r.path.endsWith('/deployments') && r.query.watch === undefined,
      )
      expect(lists).toHaveLength(2)
    },
  )

  it('gives up after bounded retries with a PrerequisiteError naming the API server', async () => {
    const server = await ReplayApiServer.start('healthy-rollout')
    const kube = connectionFor(server)
    await server.close() // the port is closed now: connections are refused
    const tracker = new RolloutTracker(kube, {retry: {attempts: 3, initialDelayMs: 20, maxDelayMs: 50}})
    const started = Date.now()
    const error = await tracker
      .track({namespace: 'fx', labelSelector: 'app.kubernetes.io/instance=fx', timeoutMs: 30_000})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).exitCode).toBe(ExitCode.Prerequisite)
    expect((error as PrerequisiteError).message).toContain(`Lost the Kubernetes API server at ${server.url}`)
    expect((error as PrerequisiteError).message).toContain('ECONNREFUSED')
    expect((error as PrerequisiteError).fix).toContain('minikube status')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('gives up when the API server dies mid-rollout', async () => {
    const server = await ReplayApiServer.start('healthy-rollout', {startAt: 2583, until: 4000})
    const tracker = new RolloutTracker(connectionFor(server), {
      retry: {attempts: 3, initialDelayMs: 20, maxDelayMs: 50},
    })
    const tracking = tracker
      .track({namespace: server.namespace, labelSelector: 'app.kubernetes.io/instance=fx', timeoutMs: 30_000})
      .catch((e: unknown) => e)
    await server.reached(4000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await server.close()
    expect(await tracking).toBeInstanceOf(PrerequisiteError)
  })
})

describe('RolloutTracker when interrupted', () => {
  it('stops watching and rejects with InterruptedError when the signal aborts', async () => {
    const server = await replay('readiness-never-passes', {startAt: 2513, until: 20_000})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const error = await trackReplay(server, {signal: controller.signal}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).exitCode).toBe(ExitCode.Interrupted)
  })
})

/** A change being applied (helm running): resolved or rejected by the test. */
function helmRun(): {returned: Promise<void>; finish: () => void; fail: (error: Error) => void} {
  let finish!: () => void
  let fail!: (error: Error) => void
  const returned = new Promise<void>((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  return {returned, finish, fail}
}

/** Resolves once the tracker has a watch open on each of the rollout's four resources. */
async function watching(server: ReplayApiServer): Promise<void> {
  while (server.openWatches() < 4) await new Promise((resolve) => setTimeout(resolve, 5))
}

const isWatch = (request: {query: Record<string, string>}): boolean => request.query.watch === 'true'

describe('RolloutTracker started with helm (startAfter)', () => {
  it('watches while helm runs: the apply arrives through the watches already open, no new list or watch', async () => {
    // The clock holds at t=2400 (v1 2/2 available) until the watches are open; the apply (t=2508,
    // generation 2 at t=2753, new ReplicaSet and pod at t=2771-2823) happens while helm still runs.
    const server = await replay('rolling-update', {startAt: 1000, until: 2400})
    const helm = helmRun()
    const progress: string[] = []
    const tracking = trackReplay(server, {
      startAfter: helm.returned,
      onProgress: (p) => progress.push(p.state),
    })
    await watching(server)
    const openedBeforeHelmReturned = server.requests.filter(isWatch).length
    server.playUntil(3000)
    await server.reached(3000)
    const requestsBeforeHelmReturned = server.requests.length
    helm.finish()
    server.playUntil(Number.POSITIVE_INFINITY)
    const {outcome} = await tracking

    expect(openedBeforeHelmReturned).toBe(4)
    // After helm: one read of the Deployments' generations (the fence), and no watch opened again.
    const after = server.requests.slice(requestsBeforeHelmReturned)
    expect(after.filter(isWatch)).toEqual([])
    expect(after.map((request) => request.path)).toEqual([
      '/apis/apps/v1/namespaces/fx-rolling-update/deployments',
    ])
    // The first judgement already knew the new pod the watch delivered while helm ran.
    expect(progress[0]).toBe('ContainerCreating')
    expect(outcome).toMatchObject({status: 'rolled-out', deployments: [{revision: '2'}]})
  })

  it('does not take the old, rolled-out spec before helm returns for the rollout', async () => {
    const server = await replay('rolling-update', {startAt: 1000, until: 2400})
    const helm = helmRun()
    let decided = false
    const tracking = trackReplay(server, {startAfter: helm.returned}).finally(() => {
      decided = true
    })
    await watching(server)
    // v1 is 2/2 available, and stays judged as nothing while helm runs.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(decided).toBe(false)
    server.playUntil(2760)
    await server.reached(2760)
    helm.finish()
    server.playUntil(Number.POSITIVE_INFINITY)
    const {outcome} = await tracking
    expect(outcome).toEqual({
      status: 'rolled-out',
      deployments: [{name: 'rolling-update', replicas: 2, revision: '2', images: ['fx-web:v2']}],
    })
    expect(server.now()).toBeGreaterThanOrEqual(10_962)
  })

  it('a failing helm ends the tracking with its error and closes the watches', async () => {
    const server = await replay('rolling-update', {startAt: 1000, until: 2400})
    const helm = helmRun()
    const tracking = trackReplay(server, {startAfter: helm.returned})
    await watching(server)
    const helmFailed = new Error('UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress')
    helm.fail(helmFailed)
    await expect(tracking).rejects.toBe(helmFailed)
    while (server.openWatches() > 0) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(server.openWatches()).toBe(0)
  })
})
