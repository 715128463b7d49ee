import {afterEach, describe, expect, it} from 'vitest'

import {InterruptedError} from '../../src/lib/errors.js'
import type {
  RolloutOutcome,
  RolloutProgress,
  TrackRequest,
} from '../../src/lib/kube/rollout/rollout-tracker.js'
import type {WorkloadSnapshot, WorkloadSource} from '../../src/lib/kube/workload-source.js'
import type {RolloutWaiter} from '../../src/lib/lifecycle/ports.js'

/** The recorded scenarios (test/fixtures/k8s) both sides play; `never-finishes` is a rollout still under way. */
export type RolloutScenario = 'healthy-rollout' | 'crash-loop' | 'image-never-pull' | 'never-finishes'

export interface RolloutContractSubject {
  waiter: RolloutWaiter
  /** The request the lifecycle would make for this release. */
  request: Omit<TrackRequest, 'signal' | 'onProgress'>
  close(): Promise<void>
}

type Failed = Extract<RolloutOutcome, {status: 'failed'}>

function failed(outcome: RolloutOutcome): Failed {
  expect(outcome.status).toBe('failed')
  return outcome as Failed
}

/**
 * What the lifecycle reads from a RolloutWaiter (`awaitRollout`, the rollback step, the error it
 * prints): the verdict, the reason, where it happened (deployment, pod, container), the fix and the
 * ready-to-paste commands. FakeRolloutWaiter must answer a scenario as RolloutTracker does over the
 * replayed API server.
 */
export function rolloutWaiterContract(
  name: string,
  start: (scenario: RolloutScenario) => Promise<RolloutContractSubject>,
): void {
  describe(`RolloutWaiter contract: ${name}`, () => {
    const open: RolloutContractSubject[] = []
    const play = async (scenario: RolloutScenario): Promise<RolloutContractSubject> => {
      const subject = await start(scenario)
      open.push(subject)
      return subject
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((subject) => subject.close()))
    })

    it('a healthy rollout is rolled out, every requested deployment reported ready', async () => {
      const {waiter, request} = await play('healthy-rollout')
      const progress: RolloutProgress[] = []
      const outcome = await waiter.wait({...request, onProgress: (update) => progress.push(update)})
      expect(outcome.status).toBe('rolled-out')
      const deployments = outcome.status === 'rolled-out' ? outcome.deployments : []
      expect(deployments.map((deployment) => deployment.name).sort()).toEqual(
        [...(request.deployments ?? [])].sort(),
      )
      for (const deployment of deployments) expect(deployment.replicas).toBeGreaterThanOrEqual(1)
      // The last line shown for each deployment says it rolled out.
      for (const name of request.deployments ?? []) {
        expect(progress.filter((update) => update.deployment === name).at(-1)).toMatchObject({
          rolledOut: true,
        })
      }
    })

    it("a crash loop fails with the container's previous logs and the command that shows them", async () => {
      const {waiter, request} = await play('crash-loop')
      const {reason, diagnosis} = failed(await waiter.wait(request))
      expect(reason).toBe('CrashLoopBackOff')
      expect(diagnosis.reason).toBe('CrashLoopBackOff')
      expect(diagnosis.namespace).toBe(request.namespace)
      expect(request.deployments).toContain(diagnosis.deployment)
      expect(diagnosis.pod).toMatch(new RegExp(`^${diagnosis.deployment}-`))
      expect(diagnosis.container).toEqual(expect.any(String))
      expect(diagnosis.restartCount).toBeGreaterThanOrEqual(1)
      expect(diagnosis.lastTerminated?.exitCode).not.toBe(0)
      expect(diagnosis.logs?.source).toBe('previous')
      expect(diagnosis.logs?.lines.length).toBeGreaterThan(0)
      expect(diagnosis.commands).toEqual([
        `kubectl -n ${request.namespace} logs ${diagnosis.pod} -c ${diagnosis.container} --previous`,
        `kubectl -n ${request.namespace} describe pod ${diagnosis.pod}`,
      ])
      expect(diagnosis.fix).toContain('keeps exiting')
      expect(diagnosis.events.length).toBeGreaterThan(0)
    })

    it('an image that is not in the cluster fails at once, and the fix loads that very image', async () => {
      const {waiter, request} = await play('image-never-pull')
      const {reason, diagnosis} = failed(await waiter.wait(request))
      expect(reason).toBe('ErrImageNeverPull')
      expect(diagnosis.reason).toBe('ErrImageNeverPull')
      expect(diagnosis.namespace).toBe(request.namespace)
      expect(request.deployments).toContain(diagnosis.deployment)
      expect(diagnosis.pod).toMatch(new RegExp(`^${diagnosis.deployment}-`))
      const image = /image "([^"]+)"/.exec(diagnosis.message)?.[1]
      expect(image).toEqual(expect.any(String))
      // The recovery after a stale node image list loads this very image (up/rollout.ts).
      expect(diagnosis.image).toBe(image)
      expect(diagnosis.fix).toContain(`minikube image load ${image}`)
      expect(diagnosis.commands).toEqual([
        `kubectl -n ${request.namespace} logs ${diagnosis.pod} -c ${diagnosis.container}`,
        `kubectl -n ${request.namespace} describe pod ${diagnosis.pod}`,
      ])
      expect(diagnosis.events.map((event) => `${event.type} ${event.reason}`)).toContain(
        'Warning ErrImageNeverPull',
      )
    })

    it('stops waiting with InterruptedError when the signal aborts', async () => {
      const {waiter, request} = await play('never-finishes')
      const controller = new AbortController()
      const waiting = waiter.wait({...request, signal: controller.signal})
      setTimeout(() => controller.abort(), 50)
      await expect(waiting).rejects.toBeInstanceOf(InterruptedError)
    })
  })
}

export interface WorkloadContractSubject {
  source: WorkloadSource
  namespace: string
  labelSelector: string
  /** The objects the cluster holds (names and pod phases are compared). */
  expected: WorkloadSnapshot
  close(): Promise<void>
}

/** `status` and `down` read the release's objects through WorkloadSource.snapshot. */
export function workloadSourceContract(name: string, start: () => Promise<WorkloadContractSubject>): void {
  describe(`WorkloadSource contract: ${name}`, () => {
    it("a snapshot holds the release's deployments and pods, as copies the caller may change", async () => {
      const subject = await start()
      try {
        const names = (snapshot: WorkloadSnapshot) => ({
          deployments: snapshot.deployments.map((d) => d.metadata?.name).sort(),
          pods: snapshot.pods.map((p) => `${p.metadata?.name} ${p.status?.phase}`).sort(),
        })
        const first = await subject.source.snapshot(subject.namespace, subject.labelSelector)
        expect(names(first)).toEqual(names(subject.expected))
        expect(first.deployments.length).toBeGreaterThan(0)
        first.pods.splice(0)
        first.deployments[0]!.metadata!.name = 'changed-by-the-caller'
        expect(names(await subject.source.snapshot(subject.namespace, subject.labelSelector))).toEqual(
          names(subject.expected),
        )
      } finally {
        await subject.close()
      }
    })
  })
}
