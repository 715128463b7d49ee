import path from 'node:path'

import {describe, expect, test} from 'vitest'

import {assertConfigRules, checkConfigRules} from '../../src/lib/config/config-rules.js'
import {loadConfig} from '../../src/lib/config/load.js'
import {BadInputError} from '../../src/lib/errors.js'
import {projectRoot} from '../support/run-command.js'
import {tempProject} from './temp-project.js'

const RULE_BREAKS = path.join('test', 'fixtures', 'config', 'rule-breaks.yaml')

describe('data-model rules on the configuration point back at the keys', () => {
  test('the defaults break no rule on minikube', () => {
    expect(checkConfigRules(loadConfig({cwd: tempProject()}), 'minikube')).toEqual([])
  })

  test('replicas, request above limit and an uppercase image are ALL refused at once (exit 2), each at its key', () => {
    const resolved = loadConfig({configPath: RULE_BREAKS, cwd: projectRoot})
    let error: unknown
    try {
      assertConfigRules(resolved, 'minikube')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(BadInputError)
    const refusal = error as BadInputError
    expect(refusal.exitCode).toBe(2)
    expect(refusal.message).toBe('the configuration breaks 3 rules of the data model')
    expect([...refusal.details].sort()).toEqual(
      [
        `${RULE_BREAKS}:5:19  services.frontend.image.repository: image reference "Todo-Frontend:0123456789ab" has uppercase letters [image.name-pattern]`,
        `${RULE_BREAKS}:7:15  services.backend.replicas: 9 replicas on a single-node minikube cluster (at most 4) [k8s.replicas.range]`,
        `${RULE_BREAKS}:10:17  services.backend.resources.requests.memory: memory request 1Gi is above its limit 512Mi: Kubernetes rejects the pod [k8s.resources.request-le-limit]`,
      ].sort(),
    )
  })

  test('3 replicas on minikube is a warning (2 recommended), not a refusal', () => {
    const dir = tempProject({'todo-deploy.yaml': 'services:\n  frontend:\n    replicas: 3\n'})
    const warnings = assertConfigRules(loadConfig({cwd: dir}), 'minikube')
    expect(warnings).toMatchObject([
      {
        id: 'k8s.replicas.range',
        severity: 'warn',
        keyPath: 'services.frontend.replicas',
        where: 'todo-deploy.yaml:3:15',
      },
    ])
  })
})
