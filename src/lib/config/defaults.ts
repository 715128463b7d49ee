/**
 * The built-in configuration: exactly spec A of docs/data-model.md, so that no todo-deploy.yaml is needed.
 * A user file is deep-merged over this (maps merge, everything else replaces) and then validated.
 */
/**
 * Both services request and limit the same, and probe with the same timings (docs/data-model.md). Functions,
 * so each service gets its own objects: the defaults are cloned (structuredClone keeps shared objects
 * shared) and then merged with the user's file, and a change to one service must not reach the other.
 */
const resources = () =>
  ({requests: {cpu: '100m', memory: '128Mi'}, limits: {cpu: '500m', memory: '512Mi'}}) as const
const probes = () =>
  ({
    readiness: {initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3},
    liveness: {initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3},
    startup: {enabled: false, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 30},
  }) as const

/** The services' pullPolicy when registry.url is set: the nodes pull the content-tagged image once. */
export const REGISTRY_PULL_POLICY = 'IfNotPresent'

export const DEFAULT_CONFIG = {
  release: 'todo-chatbot',
  namespace: 'todo-app-dev',
  chart: {
    path: null,
    valuesFiles: ['values-dev.yaml'],
    extraValuesFiles: [],
    historyMax: 10,
  },
  cluster: {
    kind: 'auto',
    profile: 'minikube',
    context: null,
    imageLoad: 'auto',
  },
  secrets: {
    name: 'todo-app-secrets',
    envFile: '.env',
  },
  configMap: {
    name: 'todo-app-config',
    data: null,
  },
  rollout: {
    maxSurge: 1,
    maxUnavailable: 0,
    timeout: '5m',
    crashLoopRestarts: 3,
  },
  ingress: {
    enabled: false,
    className: 'nginx',
    host: 'todo.local',
  },
  registry: {
    url: null,
    insecure: false,
    pullSecret: null,
  },
  // The two services are written out in full on purpose: each reads as its row of spec A in docs/data-model.md.
  services: {
    frontend: {
      enabled: true,
      deployment: 'todo-frontend',
      container: 'frontend',
      image: {repository: 'todo-frontend', pullPolicy: 'Never', sizeTargetMB: 500},
      build: {context: 'frontend', dockerfile: null, args: {}},
      port: 3000,
      healthPath: '/',
      replicas: 2,
      resources: resources(),
      probes: probes(),
      env: {},
      secretKeys: [],
      sync: null,
      service: {name: 'todo-frontend-service', type: 'NodePort', port: 80, nodePort: 30080},
    },
    backend: {
      enabled: true,
      deployment: 'todo-backend',
      container: 'backend',
      image: {repository: 'todo-backend', pullPolicy: 'Never', sizeTargetMB: 300},
      build: {context: 'backend', dockerfile: null, args: {}},
      port: 8080,
      healthPath: '/health',
      replicas: 1,
      resources: resources(),
      probes: probes(),
      env: {},
      secretKeys: ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET'],
      sync: null,
      service: {name: 'todo-backend-service', type: 'ClusterIP', port: 8080, nodePort: null},
    },
  },
} as const
