/**
 * What a user expects of todo-deploy after each command of a sequence, from the commands alone: the
 * oracle the sequence tests (over the fakes and on a real cluster) check every step against. It knows
 * nothing of how the CLI works inside; it follows the documented contract (README, docs/lifecycle.md):
 * an unchanged `up` adds no revision, a failed upgrade is rolled back, a failed first install is
 * uninstalled, `rollback` goes to the newest earlier revision that deployed, `down` leaves no release and
 * `--purge` nothing at all.
 */

export type SequenceService = 'frontend' | 'backend'

export type Operation =
  | {kind: 'up'}
  | {kind: 'up-only'; service: SequenceService}
  | {kind: 'edit-frontend'}
  | {kind: 'edit-backend'}
  | {kind: 'break-backend'}
  | {kind: 'fix-backend'}
  | {kind: 'rollback'}
  | {kind: 'status'}
  | {kind: 'down'}
  | {kind: 'down-purge'}
  /** `dev`: its first deploy, one frontend edit redeployed by the watcher, then Ctrl-C. */
  | {kind: 'dev-iteration'}

/** What the app's source holds: the frontend page version, the backend's edits and whether it crashes. */
export interface SourceContent {
  frontend: string
  backend: string
}

/** One Helm revision as the user sees it: what it runs, and whether it deployed. */
export interface ModelRevision {
  revision: number
  content: SourceContent
  deployed: boolean
}

/** What must hold right after one operation. */
export interface Expectation {
  exitCode: number
  /** The frontend version every GET to the URL must return right after the command; none: not checked. */
  serves?: string
  /** helm's current revision number; 0 when there is no release. */
  revision: number
  /** What the release's pods run; null when it has none. */
  running: SourceContent | null
  /** `status` --json `state`. */
  state?: 'Healthy' | 'Running' | 'NotDeployed'
  /** After `down --purge`: no namespace, no image of the app in the cluster. */
  purged?: boolean
}

/** How a log line names an operation: `up --only frontend`, `down-purge`, … */
export function describeOperation(operation: Operation): string {
  return operation.kind === 'up-only' ? `up --only ${operation.service}` : operation.kind
}

export class AppModel {
  #frontendVersion = 1
  #backendEdits = 0
  #backendBroken = false
  #history: ModelRevision[] = []
  /** Whether the last deploying command passed its health check on the current revision. */
  #verified = false

  /** The source as it is now. */
  get source(): SourceContent {
    return {
      frontend: `v${this.#frontendVersion}`,
      backend: `b${this.#backendEdits}${this.#backendBroken ? '-crashing' : ''}`,
    }
  }

  get backendBroken(): boolean {
    return this.#backendBroken
  }

  /** The revision helm calls current, if there is a release. */
  get current(): ModelRevision | undefined {
    return this.#history.at(-1)
  }

  /** The frontend version the next edit writes (the runners write that page). */
  get nextFrontendVersion(): string {
    return `v${this.#frontendVersion + 1}`
  }

  /** Applies `operation` to the model and returns what must hold once the command returned. */
  apply(operation: Operation): Expectation {
    switch (operation.kind) {
      case 'edit-frontend':
        this.#frontendVersion++
        return this.#unchanged()
      case 'edit-backend':
        this.#backendEdits++
        return this.#unchanged()
      case 'break-backend':
        this.#backendBroken = true
        return this.#unchanged()
      case 'fix-backend':
        this.#backendBroken = false
        return this.#unchanged()
      case 'status':
        // After an up that failed and was rolled back the old pods run and are ready, but no health
        // check passed on that revision: Running until a command verifies it (docs/lifecycle.md).
        return {
          ...this.#unchanged(),
          state: this.current === undefined ? 'NotDeployed' : this.#verified ? 'Healthy' : 'Running',
        }
      case 'up':
        return this.#deploy(this.source)
      case 'up-only':
        return this.#deploy(this.#onlyContent(operation.service))
      case 'dev-iteration': {
        const first = this.#deploy(this.source)
        if (first.exitCode !== 0) return first
        this.#frontendVersion++
        return this.#deploy(this.source)
      }
      case 'rollback':
        return this.#rollback()
      case 'down':
      case 'down-purge':
        this.#history = []
        return {
          exitCode: 0,
          revision: 0,
          running: null,
          ...(operation.kind === 'down-purge' ? {purged: true} : {}),
        }
    }
  }

  #unchanged(): Expectation {
    const current = this.current
    return {exitCode: 0, revision: current?.revision ?? 0, running: current?.content ?? null}
  }

  /** `--only`: the service from the source, the other keeps what the release runs (when it runs one). */
  #onlyContent(service: SequenceService): SourceContent {
    const running = this.current?.content
    if (running === undefined) return this.source
    return service === 'frontend'
      ? {frontend: this.source.frontend, backend: running.backend}
      : {frontend: running.frontend, backend: this.source.backend}
  }

  #deploy(content: SourceContent): Expectation {
    const current = this.current
    if (current !== undefined && sameContent(current.content, content)) {
      this.#verified = true
      return {exitCode: 0, serves: content.frontend, revision: current.revision, running: content}
    }
    const revision = (current?.revision ?? 0) + 1
    if (content.backend.endsWith('-crashing')) {
      // A failed first install is uninstalled; a failed upgrade is rolled back to the revision before.
      if (current === undefined) return {exitCode: 5, revision: 0, running: null}
      this.#history.push({revision, content, deployed: false})
      this.#history.push({revision: revision + 1, content: current.content, deployed: true})
      this.#verified = false
      return {exitCode: 5, serves: current.content.frontend, revision: revision + 1, running: current.content}
    }
    this.#history.push({revision, content, deployed: true})
    this.#verified = true
    return {exitCode: 0, serves: content.frontend, revision, running: content}
  }

  #rollback(): Expectation {
    const current = this.current
    if (current === undefined) return {exitCode: 2, revision: 0, running: null}
    const target = this.#history.findLast((entry) => entry.revision < current.revision && entry.deployed)
    if (target === undefined) return {exitCode: 2, revision: current.revision, running: current.content}
    const revision = current.revision + 1
    this.#history.push({revision, content: target.content, deployed: true})
    this.#verified = true
    return {exitCode: 0, serves: target.content.frontend, revision, running: target.content}
  }
}

export function sameContent(a: SourceContent, b: SourceContent): boolean {
  return a.frontend === b.frontend && a.backend === b.backend
}
