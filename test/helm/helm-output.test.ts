import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/lib/errors.js'
import {
  parseHelmVersion,
  parseHistory,
  parseLintOutput,
  parseStatus,
  parseUpgradeRevision,
  parseValues,
} from '../../src/lib/helm/helm-output.js'
import {fixtureText, recordedRun} from './helm-fixtures.js'

describe('parseHelmVersion', () => {
  it('reads the recorded helm 3.17 and 4.1 versions', () => {
    expect(parseHelmVersion(fixtureText('helm-version--short.txt'))).toEqual({
      version: 'v3.17.2+gcc0bbbd',
      major: 3,
    })
    expect(parseHelmVersion(recordedRun('local/helm-v4-version-short.result.json').stdout)).toEqual({
      version: 'v4.1.4+g05fa379',
      major: 4,
    })
  })

  it('accepts 3.8 and refuses older helm and helm 2 with exit 3', () => {
    expect(parseHelmVersion('v3.8.0+gd141386').major).toBe(3)
    for (const old of ['v3.7.2+g663a896', 'v2.17.0+ga690bad']) {
      expect(() => parseHelmVersion(old)).toThrow(
        expect.objectContaining({
          exitCode: ExitCode.Prerequisite,
          message: expect.stringContaining('helm 3.8+ or 4.x required'),
        }),
      )
    }
  })

  it('says so when the output is not a version', () => {
    expect(() => parseHelmVersion('command not found')).toThrow(/could not read helm's version/)
  })
})

describe('parseHistory', () => {
  it('reads a fresh install (01)', () => {
    expect(parseHistory(fixtureText('01-install/helm-history-o-json.json'))).toEqual([
      {
        revision: 1,
        updated: new Date('2026-11-21T20:39:36.389Z'),
        status: 'deployed',
        chart: 'todo-0.1.0',
        appVersion: '1.0.0',
        description: 'Install complete',
      },
    ])
  })

  it.each([
    ['02-upgrade/helm-history-o-json.json', ['superseded', 'deployed']],
    ['03-failed-upgrade/helm-history-o-json.json', ['superseded', 'deployed', 'failed']],
    ['04-rollback/helm-history-o-json.json', ['superseded', 'superseded', 'failed', 'deployed']],
    [
      '06-pending-upgrade/helm-history-o-json.json',
      ['superseded', 'superseded', 'failed', 'deployed', 'pending-upgrade'],
    ],
    [
      '06-pending-upgrade/helm-history-o-json.after-retries.json',
      ['superseded', 'superseded', 'failed', 'superseded', 'pending-upgrade', 'deployed'],
    ],
  ])('reads the statuses of %s in revision order', (file, statuses) => {
    const history = parseHistory(fixtureText(file))
    expect(history.map((row) => row.status)).toEqual(statuses)
    expect(history.map((row) => row.revision)).toEqual(statuses.map((_, index) => index + 1))
  })

  it('keeps the description helm wrote for a failed upgrade and a rollback', () => {
    const history = parseHistory(fixtureText('04-rollback/helm-history-o-json.json'))
    expect(history[2]?.description).toBe('Upgrade "fx" failed: context deadline exceeded')
    expect(history[3]?.description).toBe('Rollback to 2')
  })

  it('sorts revisions oldest first whatever order helm prints', () => {
    const rows = JSON.parse(fixtureText('02-upgrade/helm-history-o-json.json')) as unknown[]
    expect(parseHistory(JSON.stringify(rows.reverse())).map((row) => row.revision)).toEqual([1, 2])
  })

  it('maps a status it does not know to unknown rather than failing', () => {
    const json =
      '[{"revision":1,"updated":"2026-11-21T20:39:36Z","status":"brand-new","chart":"todo-0.1.0","app_version":"1","description":""}]'
    expect(parseHistory(json)[0]?.status).toBe('unknown')
  })

  it('fails with a readable error on output that is not history JSON', () => {
    expect(() => parseHistory('not json')).toThrow(/could not read the JSON that `helm history` printed/)
    expect(() => parseHistory('[{"revision":"one"}]')).toThrow(/helm history/)
  })
})

describe('parseStatus', () => {
  it('reads a deployed release (02)', () => {
    const status = parseStatus(fixtureText('02-upgrade/helm-status-o-json.json'))
    expect(status).toMatchObject({
      name: 'fx',
      namespace: 'fx-helm',
      revision: 2,
      status: 'deployed',
      description: 'Upgrade complete',
      firstDeployed: new Date('2026-11-21T20:39:36.389Z'),
      lastDeployed: new Date('2026-11-21T20:39:43.249Z'),
      config: {image: {tag: 'v2'}},
    })
    expect(status.manifest).toContain('image: "fx-web:v2"')
  })

  it.each([
    ['01-install/helm-status-o-json.json', 1, 'deployed'],
    ['03-failed-upgrade/helm-status-o-json.json', 3, 'failed'],
    ['04-rollback/helm-status-o-json.json', 4, 'deployed'],
    ['06-pending-upgrade/helm-status-o-json.json', 5, 'pending-upgrade'],
  ])('reads %s', (file, revision, state) => {
    expect(parseStatus(fixtureText(file))).toMatchObject({revision, status: state})
  })

  it('reads helm 4 status without `deleted`, `manifest` or `config`', () => {
    const json =
      '{"name":"fx","info":{"first_deployed":"2026-11-21T20:39:36.389504474Z","last_deployed":"2026-11-21T20:41:36.389504474Z","description":"Preparing upgrade","status":"pending-upgrade"},"version":3,"namespace":"x"}'
    expect(parseStatus(json)).toMatchObject({
      revision: 3,
      status: 'pending-upgrade',
      config: {},
      manifest: '',
    })
  })
})

describe('parseValues', () => {
  it('reads supplied and computed values (01)', () => {
    expect(parseValues(fixtureText('01-install/helm-get-values-o-json.json'))).toEqual({image: {tag: 'v1'}})
    expect(parseValues(fixtureText('01-install/helm-get-values--all-o-json.json'))).toMatchObject({
      image: {pullPolicy: 'Never', repository: 'fx-web', tag: 'v1'},
      replicaCount: 2,
    })
  })

  it('turns the `null` helm prints for a release without values into {}', () => {
    expect(parseValues('null\n')).toEqual({})
  })
})

describe('parseUpgradeRevision', () => {
  it('reads the revision from install and upgrade output', () => {
    expect(parseUpgradeRevision(recordedRun('01-install/helm-install.result.json').stdout)).toBe(1)
    expect(parseUpgradeRevision(recordedRun('02-upgrade/helm-upgrade.result.json').stdout)).toBe(2)
  })

  it('is undefined when helm printed no revision', () => {
    expect(parseUpgradeRevision(recordedRun('04-rollback/helm-rollback.result.json').stdout)).toBeUndefined()
  })
})

describe('parseLintOutput', () => {
  it('reads severities, joins continuation lines and drops the summary', () => {
    const output = [
      '==> Linting badchart',
      '[ERROR] Chart.yaml: version is required',
      '[INFO] Chart.yaml: icon is recommended',
      "[WARNING] Chart.yaml: version '' is not a valid SemVerV2",
      '[ERROR] : unable to load chart',
      '\tvalidation: chart.metadata.version is required',
      '',
      'Error: 1 chart(s) linted, 1 chart(s) failed',
    ].join('\n')
    expect(parseLintOutput(output)).toEqual([
      {severity: 'error', text: 'Chart.yaml: version is required'},
      {severity: 'info', text: 'Chart.yaml: icon is recommended'},
      {severity: 'warning', text: "Chart.yaml: version '' is not a valid SemVerV2"},
      {severity: 'error', text: ': unable to load chart validation: chart.metadata.version is required'},
    ])
  })

  it('keeps an error outside the chart (missing values file, no Chart.yaml)', () => {
    expect(parseLintOutput('Error: open /nonexist.yaml: no such file or directory\n')).toEqual([
      {severity: 'error', text: 'open /nonexist.yaml: no such file or directory'},
    ])
    expect(
      parseLintOutput(
        'Error unable to check Chart.yaml file in chart: stat /tmp/Chart.yaml: no such file or directory',
      ),
    ).toEqual([
      {
        severity: 'error',
        text: 'unable to check Chart.yaml file in chart: stat /tmp/Chart.yaml: no such file or directory',
      },
    ])
  })
})
