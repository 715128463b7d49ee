import path from 'node:path'

import {expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {projectRoot} from '../support/run-command.js'

// Spec B must be reachable by configuration alone (docs/data-model.md): the shipped example proves it.
test('examples/spec-b/todo-deploy.yaml yields the spec B deployment', () => {
  const resolved = loadConfig({
    configPath: path.join('examples', 'spec-b', 'todo-deploy.yaml'),
    cwd: projectRoot,
  })
  const {config} = resolved
  expect(config.namespace).toBe('default')
  expect(config.release).toBe('todo-app')
  expect(config.services.backend.port).toBe(8000)
  expect(config.services.backend.replicas).toBe(2)
  expect(config.services.frontend.replicas).toBe(2)
  expect(config.ingress.enabled).toBe(true)
  expect(config.services.frontend.service).toMatchObject({
    name: 'frontend-service',
    type: 'ClusterIP',
    port: 3000,
    nodePort: null,
  })
  expect(config.services.backend.service).toMatchObject({
    name: 'backend-service',
    type: 'ClusterIP',
    port: 8000,
  })
  expect(config.services.backend.secretKeys).toEqual(['DATABASE_URL', 'OPENAI_API_KEY', 'BETTER_AUTH_SECRET'])
  expect([config.rollout.maxSurge, config.rollout.maxUnavailable]).toEqual(['25%', '25%'])
  expect(resolved.configMapData).toEqual({
    NEXT_PUBLIC_API_URL: 'http://backend-service:8000',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
  })
  expect(config.services.backend.probes.startup.enabled).toBe(true)
  // Fields the example leaves alone keep the spec A defaults.
  expect(config.services.backend.resources.limits).toEqual({cpu: '500m', memory: '512Mi'})
  expect(resolved.projectDir).toBe(path.join(projectRoot, 'examples', 'spec-b'))
})
