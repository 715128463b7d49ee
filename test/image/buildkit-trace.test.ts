import {readFileSync} from 'node:fs'

import protobuf from 'protobufjs/minimal.js'
import {describe, expect, it} from 'vitest'

import {BuildkitTrace} from '../../src/lib/image/buildkit-trace.js'

/** A failing RUN as Docker Engine 20.10 streamed it (`POST /build?version=2`), one JSON message a line. */
const FAILING_RUN = readFileSync(new URL('../fixtures/buildkit/failing-run.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as {id?: string; aux?: unknown})

const RUN_STEP =
  '[2/2] RUN ["/bin/busybox","sh","-c","echo first line; echo second line; echo to-stderr >&2; exit 3"]'

function follow(messages = FAILING_RUN): {trace: BuildkitTrace; lines: string[]} {
  const lines: string[] = []
  const trace = new BuildkitTrace((line) => lines.push(line))
  for (const message of messages)
    if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string') trace.add(message.aux)
  return {trace, lines}
}

describe('BuildkitTrace', () => {
  it('announces each step once as it starts, says which came from the cache, and passes the output on', () => {
    const {lines} = follow()
    expect(lines.filter((line) => line === RUN_STEP)).toHaveLength(1)
    expect(lines).toContain('CACHED [1/2] COPY busybox /bin/busybox')
    expect(lines).toEqual(expect.arrayContaining(['first line', 'second line', 'to-stderr']))
    expect(lines.at(-1)).toBe(
      `ERROR ${RUN_STEP}: executor failed running [/bin/busybox sh -c echo first line; echo second line; echo to-stderr >&2; exit 3]: exit code: 3`,
    )
  })

  it('names the failing step with its output, for the build error', () => {
    expect(follow().trace.failedStep()).toEqual({
      name: RUN_STEP,
      output: expect.arrayContaining(['first line', 'second line', 'to-stderr']),
    })
  })

  it('has no failed step before one fails', () => {
    const {trace, lines} = follow(FAILING_RUN.slice(0, 3))
    expect(lines.some((line) => line.startsWith('ERROR'))).toBe(false)
    expect(trace.failedStep()).toBeUndefined()
  })

  it('joins a line of output that arrives in two chunks', () => {
    const lines: string[] = []
    const trace = new BuildkitTrace((line) => lines.push(line))
    trace.add(status({digest: 'sha256:a', name: '[1/1] RUN make'}, {vertex: 'sha256:a', text: 'compil'}))
    trace.add(status(undefined, {vertex: 'sha256:a', text: 'ing app\ndone\n'}))
    expect(lines).toEqual(['[1/1] RUN make', 'compiling app', 'done'])
  })
})

/** A StatusResponse with one started vertex and/or one log chunk, base64 as the engine sends it. */
function status(vertex?: {digest: string; name: string}, log?: {vertex: string; text: string}): string {
  const writer = protobuf.Writer.create()
  if (vertex) {
    writer.uint32(10).fork().uint32(10).string(vertex.digest).uint32(26).string(vertex.name)
    writer.uint32(42).fork().uint32(8).int64(1_700_000_000).ldelim()
    writer.ldelim()
  }
  if (log)
    writer.uint32(26).fork().uint32(10).string(log.vertex).uint32(34).bytes(Buffer.from(log.text)).ldelim()
  return Buffer.from(writer.finish()).toString('base64')
}
