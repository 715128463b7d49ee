import {leakedSecretNames} from '../../e2e/support/secret-leaks.js'
import type {Expectation, SequenceService} from './app-model.js'

/** What a runner saw right after one command. */
export interface Observation {
  /** undefined: the process ended on a signal (or never ended). */
  exitCode: number | undefined
  /** The frontend version each GET to the URL returned (empty when the step expects none). */
  served: string[]
  /** helm's current revision number; 0 when there is no release. */
  revision: number
  /** Per service, the content every non-terminating pod runs (from its image tag); null: no pods at all. */
  running: Record<SequenceService, string[]> | null
  /** `status --json` state, when the step was a status. */
  state?: string
  /** After `down --purge`: what is still there (the namespace, images in the cluster). */
  leftovers?: string[]
  /** Everything the command printed, on both streams. */
  printed: string
}

/** The GETs sent right after a command that deployed: one user refreshing the page a few times. */
export const GETS_AFTER_DEPLOY = 20

/**
 * Content tags are hashes of the build context, so a runner learns which tag is which content as the
 * sequence goes (from the builds, or the command's own report of what it built) and reads the pods'
 * images back through this book.
 */
export class TagBook {
  readonly #contentOf = new Map<string, string>()

  learn(service: SequenceService, tag: string, content: string): void {
    this.#contentOf.set(`${service}:${tag}`, content)
  }

  /** The content a tag was built from, or `unknown tag <tag>`. */
  contentOf(service: SequenceService, tag: string): string {
    return this.#contentOf.get(`${service}:${tag}`) ?? `unknown tag ${tag}`
  }
}

/** Every way `observation` differs from `expectation`, as sentences; empty when the step is right. */
export function mismatches(
  expectation: Expectation,
  observation: Observation,
  secrets: Record<string, string>,
): string[] {
  const found: string[] = []
  if (observation.exitCode !== expectation.exitCode)
    found.push(`exit ${observation.exitCode ?? 'by signal'}, expected ${expectation.exitCode}`)
  if (expectation.serves !== undefined) {
    const wrong = observation.served.filter((version) => version !== expectation.serves)
    if (observation.served.length !== GETS_AFTER_DEPLOY || wrong.length > 0)
      found.push(
        `of ${observation.served.length} GETs (expected ${GETS_AFTER_DEPLOY}), ${wrong.length} did not serve ${expectation.serves}: ${wrong.join(', ')}`,
      )
  }
  if (observation.revision !== expectation.revision)
    found.push(`helm revision ${observation.revision}, expected ${expectation.revision}`)
  if (expectation.running === null) {
    if (observation.running !== null) found.push(`pods still run: ${JSON.stringify(observation.running)}`)
  } else {
    for (const service of ['frontend', 'backend'] as const) {
      const want = expectation.running[service]
      const pods = observation.running?.[service] ?? []
      if (pods.length === 0 || pods.some((content) => content !== want))
        found.push(`${service} pods run [${pods.join(', ')}], expected all ${want}`)
    }
  }
  if (expectation.state !== undefined && observation.state !== expectation.state)
    found.push(`status state ${observation.state}, expected ${expectation.state}`)
  if (expectation.purged === true && (observation.leftovers ?? []).length > 0)
    found.push(`left after down --purge: ${observation.leftovers?.join(', ')}`)
  const leaked = leakedSecretNames(observation.printed, secrets)
  if (leaked.length > 0) found.push(`printed the secret value of ${leaked.join(', ')}`)
  return found
}
