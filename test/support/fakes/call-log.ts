/** One call a double received: `engine.build`, `helm.upgradeInstall`, … with its (copied) arguments. */
export interface RecordedCall {
  name: string
  args: unknown[]
}

/**
 * The calls of every double of one FakeCluster, in order. `onCall` runs as each call starts: a test
 * aborts its AbortController there to press Ctrl-C in the middle of a given phase.
 */
export class CallLog {
  readonly calls: RecordedCall[] = []
  onCall: ((name: string, args: unknown[]) => void) | undefined

  record(name: string, ...args: unknown[]): void {
    this.calls.push({name, args})
    this.onCall?.(name, args)
  }

  named(name: string): RecordedCall[] {
    return this.calls.filter((call) => call.name === name)
  }

  count(name: string): number {
    return this.named(name).length
  }

  names(): string[] {
    return this.calls.map((call) => call.name)
  }
}
