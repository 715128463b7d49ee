import {randomBytes} from 'node:crypto'
import {chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import which from 'which'
import {stringify} from 'yaml'

import {isLoopbackHost} from '../../../src/lib/registry/registry-address.js'

const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'e2e')
const SERVICES = ['frontend', 'backend'] as const
export type E2eService = (typeof SERVICES)[number]

/** The backend secret names of the data model; each gets a unique sentinel value per run. */
export const SECRET_NAMES = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET'] as const

/** The marker the frontend page of one version carries; the tests GET the URL and look for it. */
export function pageMarker(version: string): string {
  return `todo-e2e frontend ${version}`
}

/**
 * A throw-away app folder: the fixture app (test/fixtures/e2e/app) with a static busybox in each build
 * context, and a todo-deploy.yaml for a release and namespace of its own (random suffix), so runs never
 * meet each other or anything else on the cluster.
 */
export class E2eProject {
  readonly id = randomBytes(4).toString('hex')
  readonly release: string
  readonly namespace: string
  readonly dir: string
  readonly secrets: Record<(typeof SECRET_NAMES)[number], string>
  private readonly readinessDelay: Record<E2eService, number> = {frontend: 1, backend: 1}
  private frontendNodePort: number | null = null
  /** Keys of `services.<name>` a flow sets beyond the defaults here (sync rules, replicas). */
  private readonly serviceSettings: Record<E2eService, Record<string, unknown>> = {frontend: {}, backend: {}}

  constructor(
    readonly context: string,
    private readonly options: {
      /** `host:port` of a registry the nodes pull from: the project pushes there (registry.url). */
      registry?: string
      /**
       * Names the release, namespace and images `<prefix>-…` instead of `e2e-…`/`todo-e2e-…`, for a
       * flow (or bench) that must not share image repositories with the rest of the suite.
       */
      prefix?: string
    } = {},
  ) {
    const prefix = options.prefix
    this.release = `${prefix ?? 'e2e'}-${this.id}`
    this.namespace = `${prefix ?? 'todo-e2e'}-${this.id}`
    this.dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-e2e-'))
    cpSync(path.join(FIXTURE_DIR, 'app'), this.dir, {recursive: true})
    const busybox = which.sync('busybox', {nothrow: true}) ?? '/bin/busybox'
    if (!existsSync(busybox))
      throw new Error('the e2e fixture images need a static busybox binary (apt-get install busybox-static)')
    for (const service of SERVICES) {
      const target = path.join(this.dir, service, 'busybox')
      copyFileSync(busybox, target)
      chmodSync(target, 0o755)
    }
    this.secrets = Object.fromEntries(
      SECRET_NAMES.map((name, index) => [name, `test-secret-value-e2e-${this.id}-${index + 1}`]),
    ) as E2eProject['secrets']
    // Content of this project alone: identical builds of two flows would share one image ID, and
    // removing an image from the node (`crictl rmi`, under `minikube image rm`) removes it by ID, with
    // every other name it has, so one flow's `down --purge` would take the other flow's images away.
    writeFileSync(path.join(this.dir, 'backend', 'www', 'project.txt'), `${this.id}\n`)
    this.setFrontendPage('v1')
    this.writeConfig()
  }

  /** Rewrites the frontend page: a new version means new build-context content, hence a new image tag. */
  setFrontendPage(version: string): void {
    const html = `<!doctype html>\n<html><head><title>todo e2e</title><meta name="todo-e2e-project" content="${this.id}"></head>\n<body><h1>${pageMarker(version)}</h1></body></html>\n`
    writeFileSync(path.join(this.dir, 'frontend', 'www', 'index.html'), html)
  }

  /**
   * The image repository of one service, of this project alone: `down --purge` of one flow removes its
   * images while the node's image list still shows them for up to a minute, so a later flow that used
   * the same names (and, from the same fixture, the same content tags) would meet that stale list.
   */
  repository(service: E2eService): string {
    return `${this.options.prefix ?? 'todo-e2e'}-${this.id}-${service}`
  }

  /** A backend source change: new build-context content, hence a new backend image tag. */
  setBackendEdit(edit: string): void {
    writeFileSync(path.join(this.dir, 'backend', 'www', 'edit.txt'), `${edit}\n`)
  }

  /** Replaces the backend Dockerfile by one whose container exits 1 at once (CrashLoopBackOff). */
  breakBackend(): void {
    copyFileSync(
      path.join(FIXTURE_DIR, 'crashing-backend.Dockerfile'),
      path.join(this.dir, 'backend', 'Dockerfile'),
    )
  }

  /** Puts the working backend Dockerfile back after `breakBackend`. */
  repairBackend(): void {
    copyFileSync(
      path.join(FIXTURE_DIR, 'app', 'backend', 'Dockerfile'),
      path.join(this.dir, 'backend', 'Dockerfile'),
    )
  }

  /** Fixes the frontend Service's nodePort (null: the cluster picks one, the default of these runs). */
  setFrontendNodePort(nodePort: number | null): void {
    this.frontendNodePort = nodePort
    this.writeConfig()
  }

  /** Slows the rollout down: pods become ready only after `seconds`, so a test can act during it. */
  setReadinessDelay(service: E2eService, seconds: number): void {
    this.readinessDelay[service] = seconds
    this.writeConfig()
  }

  /** Sets keys of `services.<service>` in todo-deploy.yaml (e.g. `sync`, `replicas`). */
  setServiceConfig(service: E2eService, settings: Record<string, unknown>): void {
    this.serviceSettings[service] = {...this.serviceSettings[service], ...settings}
    this.writeConfig()
  }

  /** The CLI's environment: the sentinel secrets (never written to a file) and the tools' PATH. */
  cliEnv(pathValue: string): Record<string, string> {
    return {...this.secrets, PATH: pathValue}
  }

  remove(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }

  private writeConfig(): void {
    const service = (name: E2eService) => ({
      image: {repository: this.repository(name)},
      build: {context: name, dockerfile: `${name}/Dockerfile`},
      probes: {
        readiness: {initialDelaySeconds: this.readinessDelay[name], periodSeconds: 2, timeoutSeconds: 1},
        liveness: {initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 1},
      },
      // A node port of its own (auto) so a leftover release of another run cannot collide with this one.
      service: {nodePort: name === 'frontend' ? this.frontendNodePort : null},
      // busybox httpd needs next to nothing; the defaults (100m CPU a pod) leave a small shared node
      // unable to schedule the surge pods of a rollout (FailedScheduling: Insufficient cpu).
      resources: {requests: {cpu: '10m', memory: '16Mi'}, limits: {cpu: '200m', memory: '64Mi'}},
      ...this.serviceSettings[name],
    })
    const config = {
      release: this.release,
      namespace: this.namespace,
      cluster: {kind: 'auto', context: this.context},
      rollout: {timeout: '3m', crashLoopRestarts: 2},
      services: {frontend: service('frontend'), backend: service('backend')},
      ...(this.options.registry === undefined
        ? {}
        : {
            registry: {
              url: `${this.options.registry}/todo-e2e`,
              // Plain HTTP is allowed (and what local registries speak) only on this machine.
              insecure: isLoopbackHost(this.options.registry),
            },
          }),
    }
    writeFileSync(path.join(this.dir, 'todo-deploy.yaml'), stringify(config))
  }
}
