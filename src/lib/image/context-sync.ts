import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, readlink} from 'node:fs/promises'

import path from 'node:path'

import protobuf from 'protobufjs/minimal.js'

import {DOCKERIGNORE, sentPermissions, type BuildContext} from './build-context.js'
import {dockerignorePatterns} from './context-filter.js'

/**
 * The sending side of BuildKit's file sync (fsutil's "diffcopy" protocol), which is how the docker CLI
 * hands a build its context: the sender lists every entry (a stat packet each, in walk order, then an
 * empty one), the receiver asks for the contents of the files it does not already hold (BuildKit keeps
 * the last context it received, so an unchanged file is never sent twice), and the two end with FIN.
 * See docs/buildkit.md.
 */

/** fsutil's packet types. */
export const enum PacketType {
  Stat = 0,
  Request = 1,
  Data = 2,
  Finish = 3,
  Error = 4,
}

/** An entry as fsutil describes it: Go's `os.FileMode` bits, not the Unix mode. */
export interface SyncStat {
  path: string
  mode: number
  size: number
  /** Modification time, nanoseconds since the epoch. */
  modTimeNs: bigint
  linkname?: string
}

export interface Packet {
  type: PacketType
  stat?: SyncStat
  id?: number
  data?: Uint8Array
}

/** Go's os.FileMode type bits that fsutil puts on the wire. */
const GO_MODE_DIR = 2 ** 31
const GO_MODE_SYMLINK = 2 ** 27
const GO_MODE_SETUID = 2 ** 23
const GO_MODE_SETGID = 2 ** 22
const GO_MODE_STICKY = 2 ** 20

export function goFileMode(unixMode: number, platform: NodeJS.Platform = process.platform): number {
  const permissions = sentPermissions(unixMode, platform)
  let mode = permissions & 0o777
  if ((unixMode & 0o170000) === 0o040000) mode += GO_MODE_DIR
  if ((unixMode & 0o170000) === 0o120000) mode += GO_MODE_SYMLINK
  if (permissions & 0o4000) mode += GO_MODE_SETUID
  if (permissions & 0o2000) mode += GO_MODE_SETGID
  if (permissions & 0o1000) mode += GO_MODE_STICKY
  return mode
}

function hasModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1
}

function isFolder(entry: SyncEntry): boolean {
  return hasModeBit(entry.stat.mode, GO_MODE_DIR)
}

/** Only regular files carry data (fsutil's `fileCanRequestData`): folders and symlinks do not. */
function carriesData(stat: SyncStat): boolean {
  return !hasModeBit(stat.mode, GO_MODE_DIR) && !hasModeBit(stat.mode, GO_MODE_SYMLINK)
}

const {Reader, Writer} = protobuf

function writeInt64(writer: protobuf.Writer, value: bigint): void {
  const bits = BigInt.asUintN(64, value)
  // protobufjs takes a Long-shaped {low, high} for values past 2^53 (nanosecond times are).
  writer.int64({low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0} as unknown as number)
}

export function encodePacket(packet: Packet): Uint8Array {
  const writer = Writer.create()
  if (packet.type !== PacketType.Stat) writer.uint32(8).int32(packet.type)
  if (packet.stat) {
    const {stat} = packet
    writer.uint32(18).fork()
    writer.uint32(10).string(stat.path)
    if (stat.mode !== 0) writer.uint32(16).uint32(stat.mode)
    // uid and gid (fields 3, 4) stay 0, as the docker CLI sends them: COPY sets its own owner.
    if (stat.size !== 0) writer.uint32(40).int64(stat.size)
    if (stat.modTimeNs !== 0n) {
      writer.uint32(48)
      writeInt64(writer, stat.modTimeNs)
    }
    if (stat.linkname) writer.uint32(58).string(stat.linkname)
    writer.ldelim()
  }
  if (packet.id) writer.uint32(24).uint32(packet.id)
  if (packet.data && packet.data.length > 0) writer.uint32(34).bytes(packet.data)
  return writer.finish()
}

/** Decodes what a receiver sends (type, ID, data); a stat from a receiver has no use here and is skipped. */
export function decodePacket(bytes: Uint8Array): Packet {
  const reader = Reader.create(bytes)
  const packet: Packet = {type: PacketType.Stat}
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    switch (tag >>> 3) {
      case 1:
        packet.type = reader.int32() as PacketType
        break
      case 3:
        packet.id = reader.uint32()
        break
      case 4:
        packet.data = reader.bytes()
        break
      default:
        reader.skipType(tag & 7)
    }
  }
  return packet
}

/** An entry of the synced folder: where its content comes from, if it has any. */
export interface SyncEntry {
  stat: SyncStat
  /** A file on disk, read when the receiver asks for it. */
  file?: string
  /** Content held in memory (the Dockerfile text that was hashed into the tag). */
  content?: Buffer
}

/**
 * A virtual file: its time is derived from its content, so a receiver that compares size and time
 * (as BuildKit does before asking for data) sees every change of content.
 */
export function contentEntry(name: string, content: Buffer): SyncEntry {
  const digest = createHash('sha256').update(content).digest()
  const modTimeNs = 1_000_000_000_000_000_000n + (digest.readBigUInt64BE(0) % 1_000_000_000_000_000n)
  return {stat: {path: name, mode: 0o644, size: content.length, modTimeNs}, content}
}

/** The patterns a receiver asks with (fsutil's FilterOpt), as .dockerignore rules. */
export interface SyncFilter {
  includePatterns?: readonly string[]
  excludePatterns?: readonly string[]
  /**
   * Paths the build reads (its COPY and ADD sources, the Dockerfile): included, and a symlink on the way
   * is followed, so its target is sent too (what `COPY config.yaml` needs when that is a link).
   */
  followPaths?: readonly string[]
}

/**
 * The build context as the receiver walks it: the listed files, `.dockerignore` as the rules the scan
 * applied, every folder above them, in fsutil's walk order (depth first, names in byte order).
 */
export async function contextEntries(context: BuildContext, dockerfileText: string): Promise<SyncEntry[]> {
  const entries: SyncEntry[] = []
  const folders = new Set<string>()
  for (const file of context.files) {
    for (const parent of parentsOf(file)) folders.add(parent)
    if (file === context.dockerfileInContext) entries.push(contentEntry(file, Buffer.from(dockerfileText)))
    else if (file === DOCKERIGNORE) entries.push(contentEntry(file, Buffer.from(context.dockerignore)))
    else entries.push(await diskEntry(context, file))
  }
  for (const folder of context.emptyFolders)
    for (const above of [...parentsOf(folder), folder]) folders.add(above)
  for (const folder of folders) entries.push(await diskEntry(context, folder))
  return sortInWalkOrder(entries)
}

/** The folders above a context path, outermost first: `a/b/c` → `a`, `a/b`. */
function parentsOf(relative: string): string[] {
  const parts = relative.split('/')
  return parts.slice(1).map((_part, index) => parts.slice(0, index + 1).join('/'))
}

async function diskEntry(context: BuildContext, relative: string): Promise<SyncEntry> {
  const absolute = context.absolutePath(relative)
  const stats = await lstat(absolute, {bigint: true})
  const stat: SyncStat = {
    path: relative,
    mode: goFileMode(Number(stats.mode)),
    size: stats.isFile() ? Number(stats.size) : 0,
    modTimeNs: stats.mtimeNs,
  }
  if (stats.isSymbolicLink()) stat.linkname = await readlink(absolute)
  return stats.isFile() ? {stat, file: absolute} : {stat}
}

function sortInWalkOrder(entries: SyncEntry[]): SyncEntry[] {
  const keyed = entries.map((entry) => ({
    entry,
    parts: entry.stat.path.split('/').map((part) => Buffer.from(part)),
  }))
  keyed.sort((a, b) => {
    const length = Math.min(a.parts.length, b.parts.length)
    for (let index = 0; index < length; index++) {
      const order = Buffer.compare(a.parts[index]!, b.parts[index]!)
      if (order !== 0) return order
    }
    return a.parts.length - b.parts.length
  })
  return keyed.map(({entry}) => entry)
}

/**
 * The entries a receiver's patterns select, with the folders that lead to them. As fsutil does, a folder
 * the patterns select is sent even when nothing in it is (an empty folder `COPY` names).
 */
export function filterEntries(entries: readonly SyncEntry[], filter: SyncFilter): SyncEntry[] {
  const included = [...(filter.includePatterns ?? []), ...followedPaths(entries, filter.followPaths ?? [])]
  // The context's root (`.`, as a `COPY . .` source can arrive) includes everything.
  const everything = included.some((pattern) => ['', '.', '/'].includes(path.posix.normalize(pattern || '.')))
  const includes = included.length > 0 && !everything ? dockerignorePatterns(included) : undefined
  const excludes = filter.excludePatterns?.length ? dockerignorePatterns(filter.excludePatterns) : undefined
  const kept = entries.filter(
    (entry) =>
      (includes === undefined || includes.ignores(entry.stat.path)) &&
      (excludes === undefined || !excludes.ignores(entry.stat.path)),
  )
  const needed = new Set(kept.flatMap((entry) => parentsOf(entry.stat.path)))
  const keptSet = new Set(kept)
  return entries.filter((entry) => keptSet.has(entry) || (isFolder(entry) && needed.has(entry.stat.path)))
}

/** How many links a followed path may pass through (fsutil stops at 255 too). */
const MAX_LINKS = 255

/**
 * The followed paths and every symlink on their way with its target, as fsutil's FollowLinks resolves
 * them: a relative target from the link's folder, an absolute one from the context's root. A path part
 * with wildcards is taken as it is (its matches are included, links among them are not followed).
 */
function followedPaths(entries: readonly SyncEntry[], followPaths: readonly string[]): string[] {
  const links = new Map(
    entries.flatMap((entry) =>
      entry.stat.linkname === undefined ? [] : [[entry.stat.path, entry.stat.linkname]],
    ),
  )
  const paths = new Set<string>()
  const follow = (wanted: string, depth: number): void => {
    const parts = path.posix.normalize(wanted).replace(/^\/+/, '').split('/')
    for (let index = 0; index < parts.length; index++) {
      const prefix = parts.slice(0, index + 1).join('/')
      const target = links.get(prefix)
      if (target === undefined) continue
      paths.add(prefix)
      const resolved = target.startsWith('/') ? target : path.posix.join(path.posix.dirname(prefix), target)
      const rest = [path.posix.normalize(resolved).replace(/^\/+/, ''), ...parts.slice(index + 1)].join('/')
      if (depth < MAX_LINKS && rest !== '..' && !rest.startsWith('../')) follow(rest, depth + 1)
      return
    }
    paths.add(parts.join('/'))
  }
  for (const wanted of followPaths) follow(wanted, 0)
  return [...paths]
}

/** Bytes per data packet: well under gRPC's 4 MiB message limit, big enough to keep packets few. */
const CHUNK_BYTES = 256 * 1024

/** Where packets go and come from: one gRPC call of the receiver. */
export interface PacketChannel {
  /** Resolves once the packet may be followed by the next (the channel's backpressure). */
  send(packet: Packet): Promise<void>
  /** Packets from the receiver, ending when it closes the call. */
  received: AsyncIterable<Packet>
}

export interface SendReport {
  /** The files in the walk: those the receiver could ask for. */
  listed: string[]
  /** The files whose content the receiver asked for, and got. */
  sent: string[]
  bytesSent: number
}

/**
 * Runs the sender's side of one sync: the walk first, then each file the receiver asks for, until it
 * says FIN (answered with FIN). A file that cannot be read ends the sync with an error packet and the
 * error, which names the file.
 */
export async function sendEntries(
  entries: readonly SyncEntry[],
  channel: PacketChannel,
  unreadable: (entry: SyncEntry, error: unknown) => Error,
): Promise<SendReport> {
  const report: SendReport = {
    listed: entries.filter((entry) => carriesData(entry.stat)).map((entry) => entry.stat.path),
    sent: [],
    bytesSent: 0,
  }
  // The receiver asks by the entry's index in the walk.
  const byId = new Map<number, SyncEntry>()
  const walk = (async () => {
    for (const [index, entry] of entries.entries()) {
      if (carriesData(entry.stat)) byId.set(index, entry)
      await channel.send({type: PacketType.Stat, stat: entry.stat})
    }
    await channel.send({type: PacketType.Stat})
  })()
  // Requests can arrive while the walk is still being sent: they wait for it, in order. A failed send
  // ends the sync at once: the receiver will not ask for more once it has the error packet.
  let sending: Promise<void> = walk
  let failed: (error: unknown) => void = () => {}
  const failure = new Promise<never>((_resolve, reject) => (failed = reject))
  failure.catch(() => {})
  walk.catch(failed)
  const packets = channel.received[Symbol.asyncIterator]()
  try {
    for (;;) {
      const next = await Promise.race([packets.next(), failure])
      if (next.done) break
      const packet = next.value
      if (packet.type === PacketType.Request) {
        const id = packet.id ?? 0
        sending = sending.then(async () => {
          const entry = byId.get(id)
          if (entry === undefined) throw new Error(`the build asked for an unknown file (${id})`)
          byId.delete(id)
          report.sent.push(entry.stat.path)
          report.bytesSent += await sendContent(entry, id, channel).catch(async (error: unknown) => {
            await channel.send({type: PacketType.Error, data: Buffer.from(`cannot read ${entry.stat.path}`)})
            throw unreadable(entry, error)
          })
        })
        sending.catch(failed)
      } else if (packet.type === PacketType.Finish) {
        await sending
        await channel.send({type: PacketType.Finish})
        return report
      } else if (packet.type === PacketType.Error) {
        throw new Error(
          `the build stopped receiving its context: ${Buffer.from(packet.data ?? []).toString()}`,
        )
      }
    }
    await sending
    return report
  } finally {
    // Not awaited: a read still waiting for the receiver would hold the return back.
    void packets.return?.()
  }
}

async function sendContent(entry: SyncEntry, id: number, channel: PacketChannel): Promise<number> {
  let bytes = 0
  if (entry.content !== undefined) {
    for (let start = 0; start < entry.content.length; start += CHUNK_BYTES) {
      const data = entry.content.subarray(start, start + CHUNK_BYTES)
      await channel.send({type: PacketType.Data, id, data})
    }
    bytes = entry.content.length
  } else if (entry.file !== undefined) {
    for await (const chunk of createReadStream(entry.file, {highWaterMark: CHUNK_BYTES})) {
      await channel.send({type: PacketType.Data, id, data: chunk as Buffer})
      bytes += (chunk as Buffer).length
    }
  }
  // An empty data packet ends the file.
  await channel.send({type: PacketType.Data, id})
  return bytes
}
