import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {renderDiagnosis} from '../../src/lib/kube/rollout/diagnosis.js'
import type {RolloutOutcome} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {loadScenario, type RecordedLog} from '../support/replay-api-server.js'
import {replay, trackReplay} from './replay-harness.js'

/** The kubelet's HTTP 400 for a crashed container that wrote nothing (recorded on a real 1.24 cluster). */
const previousGone = JSON.parse(
  readFileSync(new URL('../fixtures/real-cluster/previous-log-unavailable.json', import.meta.url), 'utf8'),
) as NonNullable<RecordedLog['previousError']>

const POD = 'crash-loop-6cdbc74d56-shwvb/web'

/** The recorded crash loop, with the container's logs answered as `logs` says. */
async function crashLoopWith(logs: RecordedLog): Promise<ReturnType<typeof renderDiagnosis>> {
  const scenario = {...loadScenario('crash-loop'), logs: {[POD]: logs}, logsTimeline: undefined}
  const server = await replay(scenario, {startAt: 2513, until: 48_000, speed: 40})
  const outcome: RolloutOutcome = (await trackReplay(server)).outcome
  if (outcome.status !== 'failed') throw new Error(`expected a failure, got ${outcome.status}`)
  expect(outcome.diagnosis.reason).toBe('CrashLoopBackOff')
  return renderDiagnosis(outcome.diagnosis)
}

describe('crash logs the kubelet cannot give', () => {
  it('a crashed container that wrote nothing: says so, never shows the kubelet text as a log', async () => {
    const lines = await crashLoopWith({current: '', previous: null, previousError: previousGone})
    expect(lines).toContain(
      '  Logs of the previous (crashed) container: the crashed container wrote no log lines, or its logs are gone',
    )
    expect(lines.join('\n')).not.toMatch(/unable to retrieve|containerd:\/\//)
  })

  it("shows the current container's lines when it has some, and why the crashed one's are missing", async () => {
    const lines = await crashLoopWith({
      current: 'crash-loop: starting up\n',
      previous: null,
      previousError: previousGone,
    })
    const text = lines.join('\n')
    expect(text).toContain(
      '  Logs of the crashed container: the crashed container wrote no log lines, or its logs are gone\n' +
        '  Last 1 log lines of the current container:\n' +
        '    | crash-loop: starting up',
    )
    expect(text).not.toMatch(/unable to retrieve|containerd:\/\//)
  })
})
