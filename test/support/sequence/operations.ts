import {AppModel, type Operation} from './app-model.js'
import {SeededRandom} from './seeded-random.js'

/** How often each operation is drawn: deploys and edits most, the destructive ones less. */
const WEIGHTS: readonly (readonly [Operation['kind'], number])[] = [
  ['up', 6],
  ['up-only', 2],
  ['edit-frontend', 4],
  ['edit-backend', 2],
  ['break-backend', 1.5],
  ['fix-backend', 2],
  ['rollback', 3],
  ['status', 2],
  ['down', 1],
  ['down-purge', 1.5],
  ['dev-iteration', 1],
]

/**
 * `count` operations drawn from `seed`. Drawn freely, with two rules that keep each one meaningful: a
 * break only when the backend works and a fix only when it is broken, and `dev` only with a working
 * backend (its one iteration edits the frontend); a rollback or a down with nothing deployed is drawn
 * seldom. Right after `down --purge` an `up` follows more often
 * than not: that is the moment a cluster still catching up misleads a command.
 */
export function generateSequence(seed: number, count: number): Operation[] {
  const random = new SeededRandom(seed)
  const model = new AppModel()
  const operations: Operation[] = []
  while (operations.length < count) {
    const previous = operations.at(-1)
    const kind = previous?.kind === 'down-purge' && random.next() < 0.6 ? 'up' : random.weighted(WEIGHTS)
    if (kind === 'break-backend' && model.backendBroken) continue
    if (kind === 'fix-backend' && !model.backendBroken) continue
    if (kind === 'dev-iteration' && model.backendBroken) continue
    // Refused or idempotent with no release: still drawn, but seldom, so most steps change something.
    const nothingDeployed = model.current === undefined
    if (nothingDeployed && ['rollback', 'down', 'down-purge'].includes(kind) && random.next() < 0.75) continue
    const operation: Operation =
      kind === 'up-only'
        ? {kind, service: random.next() < 0.5 ? 'frontend' : 'backend'}
        : ({kind} as Operation)
    model.apply(operation)
    operations.push(operation)
  }
  return operations
}
