import {describe, expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {tempProject} from './temp-project.js'

// With no todo-deploy.yaml the built-in defaults apply: they must be spec A of docs/data-model.md, field by field.
describe('defaults (spec A)', () => {
  const resolved = () => loadConfig({cwd: tempProject()})

  test('no config file is needed: the defaults are used and no file is reported', () => {
    expect(resolved().configFile).toBeNull()
  })

  test('release and namespace', () => {
    const {config} = resolved()
    expect(config.release).toBe('todo-chatbot')
    expect(config.namespace).toBe('todo-app-dev')
  })

  test('deployments: names, containers, ports, replicas, pullPolicy, health paths', () => {
    const {frontend, backend} = resolved().config.services
    expect([frontend.deployment, frontend.container, frontend.port, frontend.replicas]).toEqual([
      'todo-frontend',
      'frontend',
      3000,
      2,
    ])
    expect([backend.deployment, backend.container, backend.port, backend.replicas]).toEqual([
      'todo-backend',
      'backend',
      8080,
      1,
    ])
    expect([frontend.image.repository, backend.image.repository]).toEqual(['todo-frontend', 'todo-backend'])
    expect([frontend.image.pullPolicy, backend.image.pullPolicy]).toEqual(['Never', 'Never'])
    expect([frontend.healthPath, backend.healthPath]).toEqual(['/', '/health'])
  })

  test('resources: requests 100m/128Mi, limits 500m/512Mi on both containers', () => {
    const {frontend, backend} = resolved().config.services
    for (const service of [frontend, backend]) {
      expect(service.resources).toEqual({
        requests: {cpu: '100m', memory: '128Mi'},
        limits: {cpu: '500m', memory: '512Mi'},
      })
    }
  })

  test('probe timings: readiness 10/10/5, liveness 15/20/5, no startup probe', () => {
    const {frontend, backend} = resolved().config.services
    for (const service of [frontend, backend]) {
      const {readiness, liveness, startup} = service.probes
      expect([readiness.initialDelaySeconds, readiness.periodSeconds, readiness.timeoutSeconds]).toEqual([
        10, 10, 5,
      ])
      expect([liveness.initialDelaySeconds, liveness.periodSeconds, liveness.timeoutSeconds]).toEqual([
        15, 20, 5,
      ])
      expect(startup.enabled).toBe(false)
    }
  })

  test('services: todo-frontend-service NodePort 80 nodePort 30080, todo-backend-service ClusterIP 8080', () => {
    const {frontend, backend} = resolved().config.services
    expect(frontend.service).toEqual({
      name: 'todo-frontend-service',
      type: 'NodePort',
      port: 80,
      nodePort: 30080,
    })
    expect(backend.service).toEqual({
      name: 'todo-backend-service',
      type: 'ClusterIP',
      port: 8080,
      nodePort: null,
    })
  })

  test('ConfigMap todo-app-config with NEXT_PUBLIC_API_URL pointing at the backend service, NODE_ENV production', () => {
    const config = resolved()
    expect(config.config.configMap.name).toBe('todo-app-config')
    expect(config.configMapData).toEqual({
      NEXT_PUBLIC_API_URL: 'http://todo-backend-service:8080',
      NODE_ENV: 'production',
    })
  })

  test('Secret todo-app-secrets with the backend secret names of spec A', () => {
    const {config} = resolved()
    expect(config.secrets.name).toBe('todo-app-secrets')
    expect(config.services.backend.secretKeys).toEqual([
      'DATABASE_URL',
      'JWT_SECRET',
      'GEMINI_API_KEY',
      'BETTER_AUTH_SECRET',
    ])
    expect(config.services.frontend.secretKeys).toEqual([])
  })

  test('rolling update maxSurge 1, maxUnavailable 0; ingress off', () => {
    const {config} = resolved()
    expect([config.rollout.maxSurge, config.rollout.maxUnavailable]).toEqual([1, 0])
    expect(config.ingress.enabled).toBe(false)
  })

  test('image size targets: frontend < 500 MB, backend < 300 MB', () => {
    const {frontend, backend} = resolved().config.services
    expect([frontend.image.sizeTargetMB, backend.image.sizeTargetMB]).toEqual([500, 300])
  })
})
