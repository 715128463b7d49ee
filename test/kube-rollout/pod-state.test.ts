import type {V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {buildDiagnosis, renderDiagnosis} from '../../src/lib/kube/rollout/diagnosis.js'
import {explainPod, podFailure} from '../../src/lib/kube/rollout/pod-state.js'
import {loadScenario} from '../support/replay-api-server.js'

/** The state of a pod as last recorded at or before time t. */
function recordedPod(scenario: string, t: number, name?: string): V1Pod {
  const pods = loadScenario(scenario).events.filter(
    (e) =>
      e.resource === 'pods' &&
      e.type !== 'BOOKMARK' &&
      e.t <= t &&
      (name === undefined || e.object.metadata.name === name),
  )
  const last = pods.at(-1)
  if (last === undefined) throw new Error(`no pod in ${scenario} before t=${t}`)
  return last.object as unknown as V1Pod
}

describe('explainPod on recorded pods', () => {
  it('explains a crash loop with its exit code, restarts and last log line', () => {
    const pod = recordedPod('crash-loop', 93_000)
    expect(
      explainPod(pod, {
        logTail: [
          'crash-loop: starting up',
          'crash-loop: fatal: required config missing, exiting with status 1',
        ],
      }),
    ).toBe(
      'CrashLoopBackOff: exited 1 3 times, last log line: crash-loop: fatal: required config missing, exiting with status 1',
    )
  })

  it("gives the scheduler's reason for a pending pod", () => {
    expect(explainPod(recordedPod('unschedulable', 90_000))).toMatch(
      /^Pending: 0\/1 nodes are available: 1 Insufficient cpu\./,
    )
  })

  it('says ready, not ready, terminating and the image problem in words', () => {
    expect(explainPod(recordedPod('healthy-rollout', 10_000))).toBe('Running, ready')
    expect(explainPod(recordedPod('readiness-never-passes', 60_000))).toBe('Running, not ready')
    expect(explainPod(recordedPod('rolling-update', 8000, 'rolling-update-68989fd955-ngznx'))).toBe(
      'Terminating',
    )
    expect(explainPod(recordedPod('image-never-pull', 90_000))).toBe(
      'ErrImageNeverPull: Container image "fx-web:v9-never-loaded" is not present with pull policy of Never',
    )
    expect(explainPod(recordedPod('oom-killed', 6604))).toBe('OOMKilled: exit 137, 0 restarts')
  })
})

describe('podFailure', () => {
  it('tolerates crash-loop restarts below the threshold', () => {
    const twoRestarts = recordedPod('crash-loop', 33_000)
    expect(podFailure(twoRestarts, 3)).toBeUndefined()
    expect(podFailure(twoRestarts, 2)).toMatchObject({reason: 'CrashLoopBackOff', container: 'web'})
  })

  it('does not treat a healthy or merely slow pod as failed', () => {
    expect(podFailure(recordedPod('healthy-rollout', 3000), 3)).toBeUndefined()
    expect(podFailure(recordedPod('readiness-never-passes', 60_000), 3)).toBeUndefined()
  })
})

describe('renderDiagnosis', () => {
  it('prints the reason, the restarts, the log tail, the events, the fix and the command', () => {
    const pod = recordedPod('crash-loop', 93_000)
    const diagnosis = buildDiagnosis({
      namespace: 'fx-crash-loop',
      deployment: 'crash-loop',
      pod,
      container: 'web',
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting failed container',
      events: [
        {
          metadata: {name: 'e1'},
          involvedObject: {kind: 'Pod', name: pod.metadata?.name},
          type: 'Warning',
          reason: 'BackOff',
          message: 'Back-off restarting failed container',
          count: 5,
          lastTimestamp: new Date('2026-11-21T20:59:30Z'),
        },
      ],
      logs: {
        source: 'previous',
        lines: ['crash-loop: fatal: required config missing, exiting with status 1'],
      },
      now: new Date('2026-11-21T21:00:00Z'),
    })
    expect(renderDiagnosis(diagnosis)).toEqual([
      'CrashLoopBackOff: deployment crash-loop, pod crash-loop-6cdbc74d56-shwvb, container web',
      '  back-off 40s restarting failed container',
      '  Restarts: 3',
      '  Last exit: code 1 (Error) at 2026-11-21T20:44:45.000Z',
      '  Last 1 log lines of the previous (crashed) container:',
      '    | crash-loop: fatal: required config missing, exiting with status 1',
      '  Events:',
      '    Warning BackOff Pod/crash-loop-6cdbc74d56-shwvb (x5, 30s ago): Back-off restarting failed container',
      `  Fix: ${diagnosis.fix}`,
      '  Run: kubectl -n fx-crash-loop logs crash-loop-6cdbc74d56-shwvb -c web --previous',
      '  Run: kubectl -n fx-crash-loop describe pod crash-loop-6cdbc74d56-shwvb',
    ])
  })
})
