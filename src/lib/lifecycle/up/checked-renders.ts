/**
 * The last render whose rules passed, kept for a `dev` session: its iterations mostly change image
 * tags only, and `helm template` (a Helm process, the chart rendered) is most of an iteration's own time.
 */
export class CheckedRenders {
  #last: {key: string; refs: readonly string[]; manifests: string} | undefined

  /**
   * The last manifests with `refs` in place of the image references they were rendered with, when
   * the render depended on nothing else that changed (`key`); undefined when Helm must render again
   * (also when the chart does not write an image reference as `repository:tag`).
   */
  reuse(key: string, refs: readonly string[]): string | undefined {
    const last = this.#last
    if (last?.key !== key || last.refs.length !== refs.length) return undefined
    let manifests = last.manifests
    for (const [index, before] of last.refs.entries()) {
      const after = refs[index] ?? before
      if (after === before) continue
      if (!manifests.includes(before)) return undefined
      manifests = manifests.replaceAll(before, after)
    }
    return manifests
  }

  remember(key: string, refs: readonly string[], manifests: string): void {
    this.#last = {key, refs: [...refs], manifests}
  }
}
