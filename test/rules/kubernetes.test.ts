import {readFileSync} from 'node:fs'
import path from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'

import {
  checkChartYaml,
  checkRenderedObjects,
  type K8sObject,
  type RuleViolation,
} from '../../src/lib/rules/index.js'
import {defaultChartDir, renderChart} from '../support/helm-template.js'

const SECRET_KEYS = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET']
const OPTIONS = {localImages: true, clusterKind: 'minikube', secretKeyNames: SECRET_KEYS}

let rendered: K8sObject[] = []
beforeAll(async () => {
  rendered = await renderChart({
    major: 'v3',
    set: {'frontend.image.tag': 'sha-abc123', 'backend.image.tag': 'sha-def456'},
  })
})

type Json = Record<string, unknown>
/** A deep copy of the rendered objects with `edit` applied to one of them. */
function breakObject(kind: string, name: string, edit: (object: Json) => void): K8sObject[] {
  const copy = structuredClone(rendered)
  const target = copy.find((o) => o.kind === kind && o.metadata?.name === name)
  if (!target) throw new Error(`${kind}/${name} not rendered`)
  edit(target as Json)
  return copy
}
const at = (object: unknown, ...keys: (string | number)[]): Json =>
  keys.reduce<Json>((o, k) => (o as Record<string | number, unknown>)[k] as Json, object as Json)
const backendContainer = (o: Json) => at(o, 'spec', 'template', 'spec', 'containers', 0)
const summary = (violations: RuleViolation[]) =>
  violations.map((v) => `${v.id}:${v.severity} ${v.object} ${v.field}`)

describe('checkRenderedObjects', () => {
  it('finds nothing wrong with the chart as rendered with content tags', () => {
    expect(checkRenderedObjects(rendered, OPTIONS)).toEqual([])
  })

  it('reports a memory limit below its request (k8s.resources.request-le-limit) with object, field and fix', () => {
    const objects = breakObject('Deployment', 'todo-backend', (o) => {
      at(backendContainer(o), 'resources', 'limits').memory = '64Mi'
    })
    const violations = checkRenderedObjects(objects, OPTIONS)
    expect(summary(violations)).toEqual([
      'k8s.resources.request-le-limit:error Deployment/todo-backend container backend spec.template.spec.containers[0].resources.requests.memory',
    ])
    expect(violations[0]?.message).toBe(
      'memory request 128Mi is above its limit 64Mi: Kubernetes rejects the pod',
    )
    expect(violations[0]?.fix).toContain('128Mi')
  })

  it('reports a missing limit and an unparseable request (k8s.resources.set)', () => {
    const objects = breakObject('Deployment', 'todo-backend', (o) => {
      delete at(backendContainer(o), 'resources', 'limits').cpu
      at(backendContainer(o), 'resources', 'requests').memory = 'lots'
    })
    expect(summary(checkRenderedObjects(objects, OPTIONS))).toEqual([
      'k8s.resources.set:error Deployment/todo-backend container backend spec.template.spec.containers[0].resources.requests.memory',
      'k8s.resources.set:error Deployment/todo-backend container backend spec.template.spec.containers[0].resources.limits.cpu',
    ])
  })

  it('warns about CPU and memory outside the local bounds (k8s.cpu.bounds, k8s.memory.bounds)', () => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      Object.assign(at(backendContainer(o), 'resources'), {
        requests: {cpu: '50m', memory: '64Mi'},
        limits: {cpu: 2, memory: '2Gi'},
      })
    })
    const ids = checkRenderedObjects(objects, OPTIONS).map(
      (v) => `${v.id}:${v.severity}:${v.field.split('.').slice(-2).join('.')}`,
    )
    expect(ids).toEqual([
      'k8s.cpu.bounds:warn:requests.cpu',
      'k8s.cpu.bounds:warn:limits.cpu',
      'k8s.memory.bounds:warn:requests.memory',
      'k8s.memory.bounds:warn:limits.memory',
    ])
  })

  it('reports missing probes (k8s.probes.set)', () => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      delete backendContainer(o).livenessProbe
    })
    expect(summary(checkRenderedObjects(objects, OPTIONS))).toEqual([
      'k8s.probes.set:error Deployment/todo-frontend container frontend spec.template.spec.containers[0].livenessProbe',
    ])
  })

  it('reports a pod template without the selector labels (k8s.labels.selector-match)', () => {
    const objects = breakObject('Deployment', 'todo-backend', (o) => {
      at(o, 'spec', 'template', 'metadata', 'labels').app = 'todo-api'
    })
    const violations = checkRenderedObjects(objects, OPTIONS)
    expect(summary(violations)).toEqual([
      'k8s.labels.selector-match:error Deployment/todo-backend spec.template.metadata.labels',
      // the backend Service selects app=todo-backend, which no pod carries any more
      'k8s.labels.selector-match:error Service/todo-backend-service spec.selector',
    ])
    expect(violations[0]?.message).toContain('app=todo-backend')
  })

  it('reports a Service whose selector matches no Deployment', () => {
    const objects = breakObject('Service', 'todo-frontend-service', (o) => {
      at(o, 'spec', 'selector').app = 'frontend'
    })
    const [violation] = checkRenderedObjects(objects, OPTIONS)
    expect(violation).toMatchObject({
      id: 'k8s.labels.selector-match',
      object: 'Service/todo-frontend-service',
      field: 'spec.selector',
    })
    expect(violation?.fix).toContain('app=todo-frontend')
  })

  it('reports a literal secret env value (k8s.env.sourced) without repeating the value', () => {
    const objects = breakObject('Deployment', 'todo-backend', (o) => {
      const env = backendContainer(o).env as Json[]
      env[1] = {name: 'JWT_SECRET', value: 'test-secret-value'}
    })
    const violations = checkRenderedObjects(objects, OPTIONS)
    expect(summary(violations)).toEqual([
      'k8s.env.sourced:error Deployment/todo-backend container backend spec.template.spec.containers[0].env[1].value',
    ])
    expect(JSON.stringify(violations)).not.toContain('test-secret-value')
  })

  it('warns when a container reads no ConfigMap or Secret (k8s.env.sourced)', () => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      delete backendContainer(o).envFrom
    })
    expect(summary(checkRenderedObjects(objects, OPTIONS))).toEqual([
      'k8s.env.sourced:warn Deployment/todo-frontend container frontend spec.template.spec.containers[0].envFrom',
    ])
  })

  it('reports a pull policy other than Never for local images only (k8s.pull-policy.never)', () => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      backendContainer(o).imagePullPolicy = 'IfNotPresent'
    })
    expect(summary(checkRenderedObjects(objects, OPTIONS))).toEqual([
      'k8s.pull-policy.never:error Deployment/todo-frontend container frontend spec.template.spec.containers[0].imagePullPolicy',
    ])
    // Images from a registry follow their own rule: the Never left on the other Deployment is its error.
    expect(summary(checkRenderedObjects(objects, {...OPTIONS, localImages: false}))).toEqual([
      'k8s.pull-policy.registry:error Deployment/todo-backend container backend spec.template.spec.containers[0].imagePullPolicy',
    ])
  })

  it.each([
    ['Never', ['k8s.pull-policy.registry:error']],
    ['Always', ['k8s.pull-policy.registry:warn']],
    ['IfNotPresent', []],
  ])('registry images with imagePullPolicy %s (k8s.pull-policy.registry)', (policy, expected) => {
    const objects = structuredClone(rendered)
    for (const object of objects.filter((o) => o.kind === 'Deployment'))
      backendContainer(object as Json).imagePullPolicy = policy
    const found = checkRenderedObjects(objects, {...OPTIONS, localImages: false})
    expect(found.map((v) => `${v.id}:${v.severity}`)).toEqual(expected.flatMap((e) => [e, e]))
    if (policy === 'Never') expect(found[0]?.fix).toMatch(/pullPolicy: IfNotPresent/)
  })

  it('checks image references of containers (image.name-pattern)', () => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      backendContainer(o).image = 'Todo-Frontend:latest'
    })
    expect(checkRenderedObjects(objects, OPTIONS).map((v) => v.id)).toEqual(['image.name-pattern'])
  })

  it.each([
    [0, 'minikube', ['k8s.replicas.range:error']],
    [3, 'minikube', ['k8s.replicas.range:warn']],
    [5, 'minikube', ['k8s.replicas.range:error']],
    [5, 'remote', []],
  ])('judges %d replicas on %s (k8s.replicas.range)', (replicas, clusterKind, expected) => {
    const objects = breakObject('Deployment', 'todo-frontend', (o) => {
      at(o, 'spec').replicas = replicas
    })
    expect(
      checkRenderedObjects(objects, {...OPTIONS, clusterKind}).map((v) => `${v.id}:${v.severity}`),
    ).toEqual(expected)
  })

  it('reports a Secret with values in the rendered chart, and credentials in a ConfigMap (secrets.plain-text)', () => {
    const objects: K8sObject[] = [
      ...rendered,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'todo-app-secrets'},
        stringData: {JWT_SECRET: 'test-secret-value'},
      },
    ]
    const withConfig = breakObject('ConfigMap', 'todo-app-config', (o) => {
      at(o, 'data').DATABASE_URL = 'postgres://app:test-secret-value@db.example:5432/todo'
    })
    expect(summary(checkRenderedObjects(objects, OPTIONS))).toEqual([
      'secrets.plain-text:error Secret/todo-app-secrets stringData',
    ])
    const violations = checkRenderedObjects(withConfig, OPTIONS)
    expect(summary(violations)).toEqual([
      'secrets.plain-text:error ConfigMap/todo-app-config data.DATABASE_URL',
    ])
    expect(JSON.stringify(violations)).not.toContain('test-secret-value')
  })
})

describe('checkChartYaml (chart.fields)', () => {
  it('passes the real Chart.yaml', () => {
    expect(
      checkChartYaml(readFileSync(path.join(defaultChartDir, 'Chart.yaml'), 'utf8'), {path: 'Chart.yaml'}),
    ).toEqual([])
  })

  it('reports each missing or wrong field', () => {
    const violations = checkChartYaml(
      'apiVersion: v1\nname: Todo\nversion: one\nappVersion: 1.0\ntype: library\n',
      {path: 'Chart.yaml'},
    )
    expect(violations.map((v) => `${v.field}:${v.severity}`)).toEqual([
      'apiVersion:error',
      'name:error',
      'version:error',
      'appVersion:error',
      'type:error',
      'description:warn',
    ])
    expect(new Set(violations.map((v) => v.id))).toEqual(new Set(['chart.fields']))
  })

  it('reports YAML that does not parse', () => {
    expect(checkChartYaml('name: [', {path: 'Chart.yaml'})[0]?.field).toBe('(file)')
  })
})
