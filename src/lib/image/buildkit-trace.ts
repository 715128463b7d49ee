import protobuf from 'protobufjs/minimal.js'

/**
 * BuildKit's progress as the Docker Engine streams it: `moby.buildkit.trace` messages, each a base64
 * `moby.buildkit.v1.StatusResponse` (protobuf). This reads the parts a user needs: which step started,
 * which came from the cache, a step's output and its error. See docs/buildkit.md.
 */

interface VertexUpdate {
  digest: string
  name: string
  cached: boolean
  started: boolean
  completed: boolean
  error: string
}

interface VertexLog {
  vertex: string
  text: string
}

interface StatusUpdate {
  vertexes: VertexUpdate[]
  logs: VertexLog[]
}

const {Reader} = protobuf

function readMessage<T>(
  reader: protobuf.Reader,
  end: number,
  read: (field: number, wire: number) => boolean,
  value: T,
): T {
  while (reader.pos < end) {
    const tag = reader.uint32()
    if (!read(tag >>> 3, tag & 7)) reader.skipType(tag & 7)
  }
  return value
}

/** Reads the length-delimited message at the reader's position (an embedded message) into `value`. */
function readEmbedded<T>(
  reader: protobuf.Reader,
  value: T,
  read: (field: number, wire: number) => boolean,
): T {
  return readMessage(reader, reader.uint32() + reader.pos, read, value)
}

export function decodeStatus(bytes: Uint8Array): StatusUpdate {
  const reader = Reader.create(bytes)
  const status: StatusUpdate = {vertexes: [], logs: []}
  return readMessage(
    reader,
    reader.len,
    (field, wire) => {
      if (wire !== 2) return false
      if (field === 1) status.vertexes.push(readVertex(reader))
      else if (field === 3) status.logs.push(readVertexLog(reader))
      else return false
      return true
    },
    status,
  )
}

function readVertex(reader: protobuf.Reader): VertexUpdate {
  const vertex: VertexUpdate = {
    digest: '',
    name: '',
    cached: false,
    started: false,
    completed: false,
    error: '',
  }
  return readEmbedded(reader, vertex, (field, wire) => {
    if (field === 1 && wire === 2) vertex.digest = reader.string()
    else if (field === 3 && wire === 2) vertex.name = reader.string()
    else if (field === 4 && wire === 0) vertex.cached = reader.bool()
    else if (field === 5 && wire === 2) vertex.started = skipped(reader)
    else if (field === 6 && wire === 2) vertex.completed = skipped(reader)
    else if (field === 7 && wire === 2) vertex.error = reader.string()
    else return false
    return true
  })
}

function readVertexLog(reader: protobuf.Reader): VertexLog {
  const log: VertexLog = {vertex: '', text: ''}
  return readEmbedded(reader, log, (field, wire) => {
    if (field === 1 && wire === 2) log.vertex = reader.string()
    else if (field === 4 && wire === 2) log.text = Buffer.from(reader.bytes()).toString('utf8')
    else return false
    return true
  })
}

/** Skips a length-delimited field that is only checked for presence (a timestamp). */
function skipped(reader: protobuf.Reader): true {
  reader.skipType(2)
  return true
}

/** Lines of a failing step kept for the error. */
const TAIL_LINES = 20

/**
 * Follows one build's trace: turns it into progress lines (a step as it starts, CACHED, its output,
 * its error) and remembers each step's last output lines, for the error of the step that failed.
 */
export class BuildkitTrace {
  private readonly names = new Map<string, string>()
  private readonly announced = new Set<string>()
  private readonly output = new Map<string, string[]>()
  private readonly partial = new Map<string, string>()
  private failed: string | undefined

  constructor(private readonly onLine: (line: string) => void) {}

  /** One `moby.buildkit.trace` message's `aux` (base64). */
  add(base64: string): void {
    const status = decodeStatus(Buffer.from(base64, 'base64'))
    for (const vertex of status.vertexes) {
      if (vertex.name !== '') this.names.set(vertex.digest, vertex.name)
      const name = this.names.get(vertex.digest) ?? vertex.digest
      if (vertex.started && !this.announced.has(vertex.digest)) {
        this.announced.add(vertex.digest)
        this.onLine(name)
      }
      if (vertex.completed && vertex.cached) this.onLine(`CACHED ${name}`)
      if (vertex.error !== '') {
        this.failed ??= vertex.digest
        this.onLine(`ERROR ${name}: ${vertex.error}`)
      }
    }
    for (const log of status.logs) {
      // Output arrives in chunks that can split a line: a line is complete at its newline.
      const text = (this.partial.get(log.vertex) ?? '') + log.text
      const lines = text.split(/\r?\n/)
      this.partial.set(log.vertex, lines.pop() ?? '')
      for (const line of lines) this.addOutput(log.vertex, line)
    }
  }

  private addOutput(vertex: string, line: string): void {
    const trimmed = line.trimEnd()
    if (trimmed === '') return
    this.onLine(trimmed)
    const kept = this.output.get(vertex) ?? []
    kept.push(trimmed)
    if (kept.length > TAIL_LINES) kept.shift()
    this.output.set(vertex, kept)
  }

  /** The step that failed first, with its last output lines. */
  failedStep(): {name: string; output: string[]} | undefined {
    if (this.failed === undefined) return undefined
    const rest = this.partial.get(this.failed)
    if (rest) {
      this.partial.delete(this.failed)
      this.addOutput(this.failed, rest)
    }
    return {name: this.names.get(this.failed) ?? this.failed, output: this.output.get(this.failed) ?? []}
  }
}
