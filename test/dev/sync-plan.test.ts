import {describe, expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {BUNDLED_SYNC_RULES, containerPathOf, type SyncRule} from '../../src/lib/config/sync-rules.js'
import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import {planSync} from '../../src/lib/dev/sync-plan.js'
import {tempProject} from '../config/temp-project.js'

function changed(
  services: Partial<Record<'frontend' | 'backend', string[]>>,
  flags: Partial<ChangeSet> = {},
): ChangeSet {
  return {
    services: (['frontend', 'backend'] as const).flatMap((service) => {
      const paths = services[service]
      return paths === undefined ? [] : [{service, files: paths.length, paths}]
    }),
    config: false,
    chart: false,
    env: false,
    manual: false,
    ...flags,
  }
}

describe('containerPathOf: `from` maps onto `to`, as in Tilt', () => {
  const rules: SyncRule[] = [
    {from: 'www', to: '/www'},
    {from: 'www/assets', to: '/srv/assets'},
    {from: 'main.py', to: '/app/main.py'},
  ]

  test('a file below a folder rule keeps its path below `to`, new nested folders included', () => {
    expect(containerPathOf(rules, 'www/a/b.html')).toBe('/www/a/b.html')
    expect(containerPathOf(rules, 'www/new/deeper/page.html')).toBe('/www/new/deeper/page.html')
  })

  test('the rule with the longest `from` wins; a file rule maps that file only', () => {
    expect(containerPathOf(rules, 'www/assets/logo.svg')).toBe('/srv/assets/logo.svg')
    expect(containerPathOf(rules, 'main.py')).toBe('/app/main.py')
    expect(containerPathOf(rules, 'main.pyc')).toBeUndefined()
  })

  test('a name that only starts like a folder rule is not covered', () => {
    expect(containerPathOf(rules, 'wwwroot/index.html')).toBeUndefined()
    expect(containerPathOf(rules, 'README.md')).toBeUndefined()
  })

  test('the whole context (the bundled FastAPI rule) maps every file into /app', () => {
    expect(containerPathOf(BUNDLED_SYNC_RULES.backend, 'routers/todos.py')).toBe('/app/routers/todos.py')
    expect(containerPathOf(BUNDLED_SYNC_RULES.frontend, 'app/page.tsx')).toBe('/app/app/page.tsx')
    expect(containerPathOf(BUNDLED_SYNC_RULES.frontend, 'next.config.mjs')).toBeUndefined()
  })
})

describe('planSync: what is synced and what rebuilds', () => {
  // No config: the bundled Dockerfiles and their rules.
  const resolved = () => loadConfig({cwd: tempProject()})
  const always = () => true

  test('source files the rules cover are synced, each service on its own', () => {
    const plan = planSync(
      changed({frontend: ['app/page.tsx', 'public/logo.svg'], backend: ['main.py']}),
      resolved(),
      always,
    )
    expect(plan.sync).toEqual([
      {service: 'frontend', paths: ['app/page.tsx', 'public/logo.svg']},
      {service: 'backend', paths: ['main.py']},
    ])
    expect(plan.rebuild).toBeUndefined()
  })

  test.each([
    ['frontend', 'package.json'],
    ['frontend', 'package-lock.json'],
    ['backend', 'requirements.txt'],
    ['backend', '.dockerignore'],
    ['backend', 'Dockerfile'],
  ] as const)('%s: a change of %s rebuilds the service, saying why', (service, file) => {
    const plan = planSync(changed({[service]: ['app/page.tsx', file]}), resolved(), always)
    expect(plan.sync).toEqual([])
    expect(plan.rebuild?.services.map((change) => change.service)).toEqual([service])
    expect(plan.reasons).toEqual([{service, reason: expect.stringContaining(`${file} changed`)}])
  })

  test('the bundled Dockerfile (outside the context) rebuilds; so does a file no rule covers', () => {
    const plan = planSync(
      changed({frontend: ['next.config.mjs'], backend: ['../../docker/backend.Dockerfile']}),
      resolved(),
      always,
    )
    expect(plan.sync).toEqual([])
    expect(plan.reasons).toEqual([
      {service: 'frontend', reason: 'next.config.mjs is outside the sync rules'},
      {service: 'backend', reason: 'backend.Dockerfile changed'},
    ])
  })

  test('one service synced while the other rebuilds: the rebuild keeps only the other', () => {
    const plan = planSync(
      changed({frontend: ['app/page.tsx'], backend: ['requirements.txt']}),
      resolved(),
      always,
    )
    expect(plan.sync).toEqual([{service: 'frontend', paths: ['app/page.tsx']}])
    expect(plan.rebuild?.services).toEqual([{service: 'backend', files: 1, paths: ['requirements.txt']}])
  })

  test('a configuration, chart or .env change and `r` rebuild everything, synced nothing', () => {
    for (const flag of ['config', 'chart', 'env', 'manual'] as const) {
      const changes = changed({frontend: ['app/page.tsx']}, {[flag]: true})
      expect(planSync(changes, resolved(), always)).toEqual({sync: [], rebuild: changes, reasons: []})
    }
  })

  test('a service whose pods do not run an image of this session rebuilds', () => {
    const plan = planSync(changed({backend: ['main.py']}), resolved(), () => false)
    expect(plan.sync).toEqual([])
    expect(plan.reasons).toEqual([
      {service: 'backend', reason: 'its pods do not run an image this dev session deployed'},
    ])
  })

  test('a service without rules rebuilds as before live sync, with no reason to show', () => {
    const dir = tempProject({'todo-deploy.yaml': 'services:\n  frontend:\n    sync: []\n'})
    const plan = planSync(changed({frontend: ['app/page.tsx']}), loadConfig({cwd: dir}), always)
    expect(plan).toEqual({sync: [], rebuild: changed({frontend: ['app/page.tsx']}), reasons: []})
  })
})
