import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import type {K8sObject} from '../../src/lib/rules/kubernetes-object.js'
import {HELM_MAJORS} from '../support/helm-binaries.js'
import {defaultChartDir, lintChart, renderChart} from '../support/helm-template.js'

interface Probe {
  httpGet: {path: string; port: string | number}
  initialDelaySeconds?: number
  periodSeconds: number
  timeoutSeconds: number
  failureThreshold: number
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: {secretKeyRef?: {name: string; key: string}}
}
interface Container {
  name: string
  image: string
  imagePullPolicy: string
  ports: {name: string; containerPort: number}[]
  envFrom?: {configMapRef?: {name: string}}[]
  env?: EnvVar[]
  resources: {requests: Record<string, string>; limits: Record<string, string>}
  readinessProbe: Probe
  livenessProbe: Probe
  startupProbe?: Probe
}
interface DeploymentSpec {
  replicas: number
  strategy: {type: string; rollingUpdate: {maxSurge: number | string; maxUnavailable: number | string}}
  selector: {matchLabels: Record<string, string>}
  template: {
    metadata: {labels: Record<string, string>; annotations?: Record<string, string>}
    spec: {securityContext: {runAsNonRoot: boolean; runAsUser: number}; containers: Container[]}
  }
}
interface ServiceSpec {
  type: string
  selector: Record<string, string>
  ports: {port: number; targetPort: number | string; nodePort?: number}[]
}
interface IngressSpec {
  ingressClassName: string
  rules: {
    host: string
    http: {
      paths: {path: string; pathType: string; backend: {service: {name: string; port: {number: number}}}}[]
    }
  }[]
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name)
  if (!found)
    throw new Error(
      `${kind}/${name} not rendered; got ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`,
    )
  return found
}
const deployment = (objects: K8sObject[], name: string) =>
  find(objects, 'Deployment', name).spec as DeploymentSpec
const service = (objects: K8sObject[], name: string) => find(objects, 'Service', name).spec as ServiceSpec
const container = (spec: DeploymentSpec): Container => {
  const [first] = spec.template.spec.containers
  if (!first) throw new Error('no container')
  return first
}

const SECRET_KEYS_A = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET']

describe.each(HELM_MAJORS)('todo-chatbot chart rendered by helm %s', (major) => {
  describe('spec A (values.yaml + values-dev.yaml)', async () => {
    const objects = await renderChart({
      major,
      valuesFiles: ['values.yaml', 'values-dev.yaml'],
      release: 'todo',
      namespace: 'todo-app-dev',
      set: {'secrets.checksum': 'sha256-test'},
    })

    it('renders exactly the two Deployments, two Services and the ConfigMap, and no Secret', () => {
      expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort()).toEqual([
        'ConfigMap/todo-app-config',
        'Deployment/todo-backend',
        'Deployment/todo-frontend',
        'Service/todo-backend-service',
        'Service/todo-frontend-service',
      ])
      for (const o of objects) expect(o.metadata?.namespace).toBe('todo-app-dev')
    })

    it('puts app, tier and the standard labels on every object', () => {
      for (const o of objects) {
        expect(o.metadata?.labels).toMatchObject({
          'app.kubernetes.io/name': 'todo-chatbot-chart',
          'app.kubernetes.io/instance': 'todo',
          'app.kubernetes.io/version': '1.0.0',
          'app.kubernetes.io/managed-by': 'Helm',
          'helm.sh/chart': 'todo-chatbot-chart-1.0.0',
        })
        expect(o.metadata?.labels?.app).toBeTruthy()
        expect(o.metadata?.labels?.tier).toBeTruthy()
      }
      expect(find(objects, 'Deployment', 'todo-frontend').metadata?.labels).toMatchObject({
        app: 'todo-frontend',
        tier: 'frontend',
      })
      expect(find(objects, 'Deployment', 'todo-backend').metadata?.labels).toMatchObject({
        app: 'todo-backend',
        tier: 'backend',
      })
    })

    it.each([
      ['todo-frontend', 'frontend', 2, 3000, '/', 'todo-frontend-service'],
      ['todo-backend', 'backend', 1, 8080, '/health', 'todo-backend-service'],
    ])(
      '%s: replicas, container, port, probes, resources, pullPolicy, strategy, selector',
      (name, containerName, replicas, port, probePath, serviceName) => {
        const spec = deployment(objects, name)
        expect(spec.replicas).toBe(replicas)
        expect(spec.strategy).toEqual({
          type: 'RollingUpdate',
          rollingUpdate: {maxSurge: 1, maxUnavailable: 0},
        })
        expect(spec.selector.matchLabels).toEqual({app: name, 'app.kubernetes.io/instance': 'todo'})
        expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels)
        expect(spec.template.spec.securityContext).toEqual({runAsNonRoot: true, runAsUser: 1001})
        const c = container(spec)
        expect(c.name).toBe(containerName)
        expect(c.image).toBe(`todo-${containerName}:latest`)
        expect(c.imagePullPolicy).toBe('Never')
        expect(c.ports).toEqual([{name: 'http', containerPort: port, protocol: 'TCP'}])
        expect(c.resources).toEqual({
          requests: {cpu: '100m', memory: '128Mi'},
          limits: {cpu: '500m', memory: '512Mi'},
        })
        expect(c.readinessProbe).toEqual({
          httpGet: {path: probePath, port: 'http'},
          initialDelaySeconds: 10,
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 3,
        })
        expect(c.livenessProbe).toEqual({
          httpGet: {path: probePath, port: 'http'},
          initialDelaySeconds: 15,
          periodSeconds: 20,
          timeoutSeconds: 5,
          failureThreshold: 3,
        })
        expect(c.startupProbe).toBeUndefined()
        expect(c.envFrom).toEqual([{configMapRef: {name: 'todo-app-config'}}])
        // the Service reaches exactly these pods
        expect(service(objects, serviceName).selector).toEqual(spec.selector.matchLabels)
      },
    )

    it('exposes the frontend as NodePort 80 -> 3000 on 30080 and the backend as ClusterIP 8080 -> 8080', () => {
      expect(service(objects, 'todo-frontend-service')).toMatchObject({
        type: 'NodePort',
        ports: [{port: 80, targetPort: 3000, nodePort: 30080}],
      })
      const backend = service(objects, 'todo-backend-service')
      expect(backend).toMatchObject({type: 'ClusterIP', ports: [{port: 8080, targetPort: 8080}]})
      expect(backend.ports[0]?.nodePort).toBeUndefined()
    })

    it('holds the ConfigMap data of the data model', () => {
      expect(find(objects, 'ConfigMap', 'todo-app-config').data).toEqual({
        NEXT_PUBLIC_API_URL: 'http://todo-backend-service:8080',
        NODE_ENV: 'production',
      })
    })

    it('reads each backend secret key from the existing Secret and annotates the pods with its checksum', () => {
      const backend = deployment(objects, 'todo-backend')
      expect(container(backend).env).toEqual(
        SECRET_KEYS_A.map((key) => ({name: key, valueFrom: {secretKeyRef: {name: 'todo-app-secrets', key}}})),
      )
      expect(backend.template.metadata.annotations?.['checksum/secrets']).toBe('sha256-test')
      const frontend = deployment(objects, 'todo-frontend')
      expect(container(frontend).env).toBeUndefined()
      expect(frontend.template.metadata.annotations?.['checksum/secrets']).toBeUndefined()
    })
  })

  it('changes the pod template when the ConfigMap data changes, so pods restart', async () => {
    const before = await renderChart({major})
    const after = await renderChart({major, set: {'configMap.data.NODE_ENV': 'staging'}})
    const annotation = (objects: K8sObject[]) =>
      deployment(objects, 'todo-frontend').template.metadata.annotations?.['checksum/config']
    expect(annotation(before)).toMatch(/^[0-9a-f]{64}$/)
    expect(annotation(after)).not.toBe(annotation(before))
  })

  it('deploys the image tags passed with --set, plain env vars, and an auto-assigned nodePort', async () => {
    const objects = await renderChart({
      major,
      set: {
        'frontend.image.tag': 'sha-abc123',
        'backend.image.tag': '1.2.3',
        'frontend.service.nodePort': 'null',
        'frontend.env.FEATURE_FLAG': 'on',
      },
    })
    expect(container(deployment(objects, 'todo-frontend')).image).toBe('todo-frontend:sha-abc123')
    expect(container(deployment(objects, 'todo-backend')).image).toBe('todo-backend:1.2.3')
    expect(container(deployment(objects, 'todo-frontend')).env).toEqual([{name: 'FEATURE_FLAG', value: 'on'}])
    expect(service(objects, 'todo-frontend-service').ports[0]?.nodePort).toBeUndefined()
  })

  it('references the image pull Secrets of imagePullSecrets in both Deployments, and none by default', async () => {
    const pullSecrets = (objects: K8sObject[], name: string): unknown =>
      (deployment(objects, name).template.spec as {imagePullSecrets?: unknown}).imagePullSecrets
    const withSecret = await renderChart({major, set: {'imagePullSecrets[0]': 'todo-registry-pull'}})
    for (const name of ['todo-frontend', 'todo-backend'])
      expect(pullSecrets(withSecret, name)).toEqual([{name: 'todo-registry-pull'}])
    const without = await renderChart({major})
    for (const name of ['todo-frontend', 'todo-backend']) expect(pullSecrets(without, name)).toBeUndefined()
  })

  it('passes helm lint --strict with a registry image and a pull Secret', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-chart-registry-'))
    try {
      const file = path.join(dir, 'registry-values.yaml')
      writeFileSync(
        file,
        [
          'imagePullSecrets: [todo-registry-pull]',
          'frontend: {image: {repository: localhost:5000/team/todo-frontend, tag: 0123456789ab, pullPolicy: IfNotPresent}}',
          'backend: {image: {repository: localhost:5000/team/todo-backend, tag: 0123456789ab, pullPolicy: IfNotPresent}}',
        ].join('\n'),
      )
      const result = await lintChart(major, file)
      expect(result.stdout + result.stderr).toContain('0 chart(s) failed')
      expect(result.exitCode).toBe(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('renders nothing for a disabled component', async () => {
    const objects = await renderChart({major, set: {'frontend.enabled': 'false'}})
    expect(objects.some((o) => o.metadata?.name?.startsWith('todo-frontend'))).toBe(false)
    expect(objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === 'todo-backend')).toBe(true)
  })

  it('fails to render when a secret key is used but no Secret is named', async () => {
    await expect(renderChart({major, set: {'secrets.existingSecret': ''}})).rejects.toThrow(
      /secrets.existingSecret/,
    )
  })

  describe('spec B (values-spec-b.yaml)', async () => {
    const objects = await renderChart({
      major,
      valuesFiles: ['values-spec-b.yaml'],
      release: 'todo',
      namespace: 'default',
    })

    it('renames the services, moves the backend to 8000 with 2 replicas, and uses 25% / 25%', () => {
      expect(service(objects, 'frontend-service')).toMatchObject({
        type: 'ClusterIP',
        ports: [{port: 3000, targetPort: 3000}],
      })
      expect(service(objects, 'backend-service')).toMatchObject({
        type: 'ClusterIP',
        ports: [{port: 8000, targetPort: 8000}],
      })
      const backend = deployment(objects, 'todo-backend')
      expect(backend.replicas).toBe(2)
      expect(container(backend).ports[0]?.containerPort).toBe(8000)
      expect(backend.strategy.rollingUpdate).toEqual({maxSurge: '25%', maxUnavailable: '25%'})
      for (const o of objects) expect(o.metadata?.labels?.['app.kubernetes.io/name']).toBe('todo-app')
    })

    it('adds startup probes, LOG_LEVEL and the spec B secret keys', () => {
      expect(container(deployment(objects, 'todo-backend')).startupProbe).toEqual({
        httpGet: {path: '/health', port: 'http'},
        periodSeconds: 5,
        timeoutSeconds: 5,
        failureThreshold: 30,
      })
      expect(container(deployment(objects, 'todo-frontend')).startupProbe?.httpGet.path).toBe('/')
      expect(find(objects, 'ConfigMap', 'todo-app-config').data).toEqual({
        NEXT_PUBLIC_API_URL: 'http://backend-service:8000',
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
      })
      expect(
        container(deployment(objects, 'todo-backend')).env?.map((e) => e.valueFrom?.secretKeyRef?.key),
      ).toEqual(['DATABASE_URL', 'OPENAI_API_KEY', 'BETTER_AUTH_SECRET'])
    })

    it('routes / to the frontend service and /api to the backend service through an nginx Ingress', () => {
      const ingress = objects.find((o) => o.kind === 'Ingress')
      const spec = ingress?.spec as IngressSpec
      expect(spec.ingressClassName).toBe('nginx')
      expect(spec.rules[0]?.host).toBe('todo.local')
      const routes = spec.rules[0]?.http.paths.map((p) => [
        p.path,
        p.pathType,
        p.backend.service.name,
        p.backend.service.port.number,
      ])
      expect(routes).toEqual(
        expect.arrayContaining([
          ['/', 'Prefix', 'frontend-service', 3000],
          ['/api', 'Prefix', 'backend-service', 8000],
        ]),
      )
    })
  })

  it.each(['values.yaml', 'values-dev.yaml', 'values-spec-b.yaml'])(
    'passes helm lint --strict with %s',
    async (file) => {
      const result = await lintChart(major, file)
      expect(result.stdout + result.stderr).toContain('0 chart(s) failed')
      expect(result.exitCode).toBe(0)
    },
  )
})

describe('Chart.yaml', () => {
  it('carries the fields of the data model', () => {
    const chart: unknown = parse(readFileSync(path.join(defaultChartDir, 'Chart.yaml'), 'utf8'))
    expect(chart).toMatchObject({
      apiVersion: 'v2',
      name: 'todo-chatbot-chart',
      type: 'application',
      version: '1.0.0',
      appVersion: '1.0.0',
      keywords: ['todo', 'chatbot', 'ai', 'kubernetes'],
    })
  })
})
