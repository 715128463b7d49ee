import {describe, expect, it} from 'vitest'

import type {ReleaseRevision, ReleaseStatus} from '../../src/lib/helm/helm-client.js'
import {parseHistory} from '../../src/lib/helm/helm-output.js'
import {
  inspectRelease,
  parseChartRef,
  planPendingRecovery,
  previousGoodRevision,
} from '../../src/lib/helm/release-state.js'
import {fixtureText} from './helm-fixtures.js'

const history = (file: string): ReleaseRevision[] => parseHistory(fixtureText(file))

function revision(number: number, status: ReleaseStatus, description = ''): ReleaseRevision {
  return {
    revision: number,
    updated: new Date(0),
    status,
    chart: 'todo-chatbot-chart-1.0.0',
    appVersion: '1.0.0',
    description,
  }
}

describe('inspectRelease', () => {
  it('absent without history', () => {
    expect(inspectRelease([])).toEqual({state: 'absent'})
  })

  it.each([
    ['01-install/helm-history-o-json.json', 'deployed', 1, 1],
    ['03-failed-upgrade/helm-history-o-json.json', 'failed', 3, 2],
    ['04-rollback/helm-history-o-json.json', 'deployed', 4, 4],
    ['06-pending-upgrade/helm-history-o-json.json', 'pending-upgrade', 5, 4],
    ['06-pending-upgrade/helm-history-o-json.after-retries.json', 'deployed', 6, 6],
  ])('%s: state %s, current %i, last deployed %i', (file, state, current, lastDeployed) => {
    const inspection = inspectRelease(history(file))
    expect(inspection.state).toBe(state)
    expect(inspection.current?.revision).toBe(current)
    expect(inspection.lastDeployed?.revision).toBe(lastDeployed)
  })
})

describe('planPendingRecovery', () => {
  it('rolls the real stuck release (06, pending-upgrade) back to revision 4, as helm did when recorded', () => {
    expect(
      planPendingRecovery(inspectRelease(history('06-pending-upgrade/helm-history-o-json.json'))),
    ).toEqual({action: 'rollback', revision: 4})
  })

  it('uninstalls a first install that never finished (pending-install, nothing deployed)', () => {
    expect(
      planPendingRecovery(inspectRelease([revision(1, 'pending-install', 'Initial install underway')])),
    ).toEqual({action: 'uninstall'})
  })

  it('rolls back a pending-rollback to the revision still deployed', () => {
    const stuck = [
      revision(1, 'superseded'),
      revision(2, 'deployed'),
      revision(3, 'pending-rollback', 'Rollback "todo" to 1'),
    ]
    expect(planPendingRecovery(inspectRelease(stuck))).toEqual({action: 'rollback', revision: 2})
  })

  it('uninstalls again a release stuck uninstalling', () => {
    expect(
      planPendingRecovery(
        inspectRelease([revision(1, 'uninstalling', 'Deletion in progress (or silently failed)')]),
      ),
    ).toEqual({action: 'uninstall'})
  })

  it.each([
    '01-install/helm-history-o-json.json',
    '03-failed-upgrade/helm-history-o-json.json',
    '06-pending-upgrade/helm-history-o-json.after-retries.json',
  ])('nothing to recover in %s', (file) => {
    expect(planPendingRecovery(inspectRelease(history(file)))).toBeNull()
  })

  it('nothing to recover for an absent release', () => {
    expect(planPendingRecovery(inspectRelease([]))).toBeNull()
  })
})

describe('previousGoodRevision', () => {
  it('after the failed upgrade (03) goes back to 2, not to the failed 3', () => {
    expect(previousGoodRevision(history('03-failed-upgrade/helm-history-o-json.json'), 3)?.revision).toBe(2)
  })

  it('after the rollback (04, current 4 "Rollback to 2") goes to 2, skipping the failed 3', () => {
    expect(previousGoodRevision(history('04-rollback/helm-history-o-json.json'), 4)?.revision).toBe(2)
  })

  it('after the recovery (06, current 6) skips the pending 5 and returns 4', () => {
    expect(
      previousGoodRevision(history('06-pending-upgrade/helm-history-o-json.after-retries.json'), 6)?.revision,
    ).toBe(4)
  })

  it('skips a revision helm described as failed even if a later helm marked it superseded', () => {
    const rows = [
      revision(1, 'superseded', 'Install complete'),
      revision(2, 'superseded', 'Upgrade "todo" failed: context deadline exceeded'),
      revision(3, 'deployed', 'Upgrade complete'),
    ]
    expect(previousGoodRevision(rows, 3)?.revision).toBe(1)
  })

  it('is undefined when nothing older deployed', () => {
    expect(previousGoodRevision(history('01-install/helm-history-o-json.json'), 1)).toBeUndefined()
  })
})

describe('parseChartRef', () => {
  it.each([
    ['todo-chatbot-chart-1.0.0', {name: 'todo-chatbot-chart', version: '1.0.0'}],
    ['todo-0.1.0', {name: 'todo', version: '0.1.0'}],
    ['todo-app-2.3.4-rc.1', {name: 'todo-app', version: '2.3.4-rc.1'}],
    ['todo-1.0.0+build.5', {name: 'todo', version: '1.0.0+build.5'}],
  ])('%s', (chart, expected) => {
    expect(parseChartRef(chart)).toEqual(expected)
  })

  it('undefined without a version', () => {
    expect(parseChartRef('todo-chatbot-chart')).toBeUndefined()
  })
})
