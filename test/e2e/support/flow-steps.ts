import {it} from 'vitest'

/**
 * The steps of one flow share a release and run in order, each building on the one before. Once a
 * step fails, the later ones are skipped with a note naming it, so the report shows the one real
 * failure instead of a cascade of consequences.
 */
export class FlowSteps {
  private failed: string | undefined

  step(name: string, body: () => Promise<void>): void {
    it(name, async (context) => {
      if (this.failed !== undefined) context.skip(`skipped: the earlier step "${this.failed}" failed`)
      try {
        await body()
      } catch (error) {
        this.failed = name
        throw error
      }
    })
  }
}
