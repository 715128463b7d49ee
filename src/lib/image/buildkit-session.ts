import {randomUUID} from 'node:crypto'
import {on, once} from 'node:events'
import type {Duplex} from 'node:stream'

import * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs/minimal.js'

import {isEngineUnreachable, type DockerEngine} from './docker-engine.js'
import {
  decodePacket,
  encodePacket,
  filterEntries,
  sendEntries,
  type Packet,
  type SyncEntry,
} from './context-sync.js'
import {SessionRefusedError} from './session-refused.js'

const FILE_SYNC = '/moby.filesync.v1.FileSync/DiffCopy'
const HEALTH_CHECK = '/grpc.health.v1.Health/Check'
const CREDENTIALS = '/moby.filesync.v1.Auth/Credentials'
/** How long the engine may take to upgrade the session's connection, by default. */
const UPGRADE_TIMEOUT_MS = 10_000
/** grpc.health.v1.HealthCheckResponse{status: SERVING}. */
const SERVING = Buffer.from([0x08, 0x01])

export interface SessionOptions {
  /** The folders the build may read, by the name the daemon asks for (`context`, `dockerfile`). */
  dirs: Readonly<Record<string, readonly SyncEntry[]>>
  /** Keys the daemon's copy of the context: the same key lets the next build send only what changed. */
  sharedKey: string
  /** The error to report when a file cannot be read while the daemon asks for it. */
  unreadable: (entry: SyncEntry, error: unknown) => Error
  /** How long the engine may take to upgrade the session's connection (10 s by default). */
  upgradeTimeoutMs?: number
  /**
   * The login for a registry the build pulls from (a private base image), as `docker login` stored it;
   * null for none (an anonymous pull). Without it the session offers no credentials at all.
   */
  credentials?: (host: string) => Promise<RegistryLogin | null>
}

/** What BuildKit's Auth.Credentials answers with: an identity token goes as the secret with no user. */
export interface RegistryLogin {
  username: string
  secret: string
}

/**
 * A BuildKit session with the Docker Engine, as `docker build` opens one: a connection the engine
 * upgrades to HTTP/2, on which this process is the gRPC server. The build then pulls its context and
 * Dockerfile through it (file sync), so the Dockerfile never becomes part of the context and an
 * unchanged file is not sent again. See docs/buildkit.md.
 */
export class BuildkitSession {
  readonly id = randomUUID()
  /**
   * What the syncs of each folder listed and sent, over all of them (a build reads its context more than
   * once: first .dockerignore alone, then what its steps copy).
   */
  readonly sent = new Map<string, {listed: Set<string>; sent: Set<string>; bytes: number}>()
  /** A failure of a sync (a file that could not be read): the build's failure is reported as this. */
  failure: Error | undefined
  private server: grpc.Server | undefined
  private socket: Duplex | undefined

  private constructor(private readonly options: SessionOptions) {}

  static async open(engine: DockerEngine, options: SessionOptions): Promise<BuildkitSession> {
    const session = new BuildkitSession(options)
    await session.connect(engine)
    return session
  }

  private async connect(engine: DockerEngine): Promise<void> {
    const socket = await new Promise<Duplex>((resolve, reject) => {
      // An upgrade nobody answers (a proxy in the way) would wait for the engine's 10-minute limit.
      let timedOut = false
      const timeoutMs = this.options.upgradeTimeoutMs ?? UPGRADE_TIMEOUT_MS
      const timer = setTimeout(() => {
        timedOut = true
        reject(new SessionRefusedError(`no answer to the session upgrade in ${timeoutMs / 1000}s`))
      }, timeoutMs)
      engine.docker.modem.dial(
        {
          path: '/session',
          method: 'POST',
          hijack: true,
          // An empty body sent with its length: nothing may follow the request on the upgraded connection.
          file: Buffer.alloc(0),
          headers: {
            Upgrade: 'h2c',
            'X-Docker-Expose-Session-Uuid': this.id,
            'X-Docker-Expose-Session-Name': 'todo-deploy',
            'X-Docker-Expose-Session-Sharedkey': this.options.sharedKey,
            'X-Docker-Expose-Session-Grpc-Method': [
              FILE_SYNC,
              HEALTH_CHECK,
              ...(this.options.credentials ? [CREDENTIALS] : []),
            ],
          },
          statusCodes: {101: true},
        },
        (error: unknown, upgraded) => {
          clearTimeout(timer)
          if (timedOut) (upgraded as Duplex | undefined)?.destroy()
          else if (error === null || error === undefined) resolve(upgraded as Duplex)
          // The engine cannot be reached: the classic builder could not either, so that is the error.
          else if (isEngineUnreachable(error)) reject(error)
          // Refused (4xx from an engine without sessions) or broken on the way: the classic builder will do.
          else reject(new SessionRefusedError(error instanceof Error ? error.message : String(error)))
        },
      )
    })
    this.socket = socket
    const server = new grpc.Server()
    server.addService(
      {
        DiffCopy: {
          path: FILE_SYNC,
          requestStream: true,
          responseStream: true,
          requestSerialize: (packet: Packet) => Buffer.from(encodePacket(packet)),
          requestDeserialize: decodePacket,
          responseSerialize: (packet: Packet) => Buffer.from(encodePacket(packet)),
          responseDeserialize: decodePacket,
        },
        Check: unaryOfBytes(HEALTH_CHECK),
      },
      {
        DiffCopy: (call: grpc.ServerDuplexStream<Packet, Packet>) => void this.sync(call),
        Check: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, SERVING),
      },
    )
    const {credentials} = this.options
    if (credentials) {
      server.addService(
        {
          Credentials: unaryOfBytes(CREDENTIALS),
        },
        {
          Credentials: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
            const host = decodeCredentialsRequest(call.request)
            credentials(host).then(
              (login) => callback(null, encodeCredentialsResponse(login)),
              // The reason, never a credential: the build's error says which registry and why.
              (error: unknown) =>
                callback({
                  code: grpc.status.UNAVAILABLE,
                  details: `no Docker login for ${host}: ${error instanceof Error ? error.message : String(error)}`,
                }),
            )
          },
        },
      )
    }
    server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket)
    this.server = server
    // The daemon's first HTTP/2 frames can arrive with the upgrade; Node hands them to the new HTTP/2
    // session on the next tick and crashes if the session was closed before (nodejs/node#35475): a
    // session that is opened and closed at once (doctor's probe) must let that tick pass first.
    await new Promise((resolve) => setImmediate(resolve))
  }

  /** One file sync the daemon started: which folder, filtered by the patterns it sent. */
  private async sync(call: grpc.ServerDuplexStream<Packet, Packet>): Promise<void> {
    // Nothing may escape: this runs detached from the build, and an unhandled rejection ends the process.
    try {
      const dirName = metadataValues(call, 'dir-name')[0] ?? ''
      const entries = this.options.dirs[dirName]
      if (entries === undefined) {
        call.emit('error', {code: grpc.status.NOT_FOUND, details: `no access allowed to dir "${dirName}"`})
        return
      }
      const selected = filterEntries(entries, {
        includePatterns: metadataValues(call, 'include-patterns'),
        excludePatterns: metadataValues(call, 'exclude-patterns'),
        followPaths: metadataValues(call, 'followpaths'),
      })
      const report = await sendEntries(
        selected,
        {
          send: (packet) => sendPacket(call, packet),
          // Leaving the loop must not destroy the call: its end (the gRPC status) still has to be sent.
          received: packetsOf(call),
        },
        this.options.unreadable,
      )
      const total = this.sent.get(dirName) ?? {listed: new Set(), sent: new Set(), bytes: 0}
      for (const file of report.listed) total.listed.add(file)
      for (const file of report.sent) total.sent.add(file)
      total.bytes += report.bytesSent
      this.sent.set(dirName, total)
      call.end()
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error))
      if (!call.destroyed) call.emit('error', {code: grpc.status.INTERNAL, details: this.failure.message})
    }
  }

  close(): void {
    this.server?.forceShutdown()
    this.socket?.destroy()
  }
}

/** A request's metadata values for `key`, decoded as buildkit's filesync encodes them. */
function metadataValues(call: grpc.ServerDuplexStream<Packet, Packet>, key: string): string[] {
  // Node's HTTP/2 joins a header sent several times with ", ": a list of patterns arrives as one.
  // A value that itself holds ", " would be split too: paths and .dockerignore patterns hardly do.
  const raw = call.metadata
    .get(key)
    .flatMap((value) => String(value).split(', '))
    .filter((value) => value !== '')
  const encoded = call.metadata.get(`${key}-encoded`).map(String)[0]
  return encoded === '1' || encoded === 'true'
    ? raw.map((value) => decodeURIComponent(value.replace(/\+/g, ' ')))
    : raw
}

async function* packetsOf(call: grpc.ServerDuplexStream<Packet, Packet>): AsyncGenerator<Packet> {
  // 'close' too: a call the daemon cancels (the build was stopped) is destroyed without an end.
  for await (const [packet] of on(call, 'data', {close: ['end', 'close']})) yield packet as Packet
}

/**
 * Writes one packet, waiting while the call's buffer is full; a call closed meanwhile (the build was
 * stopped) ends the sync instead of leaving it waiting, with a file open, for a drain that never comes.
 */
export async function sendPacket(
  call: grpc.ServerDuplexStream<Packet, Packet>,
  packet: Packet,
): Promise<void> {
  if (call.destroyed || call.cancelled) throw new Error('the build stopped reading its context')
  if (call.write(packet)) return
  const stop = new AbortController()
  try {
    await Promise.race([
      once(call, 'drain', {signal: stop.signal}),
      once(call, 'close', {signal: stop.signal}).then(() => {
        throw new Error('the build stopped reading its context')
      }),
    ])
  } finally {
    stop.abort()
  }
}

/** A unary method whose messages this side encodes and decodes itself. */
function unaryOfBytes(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  const same = (value: Buffer): Buffer => value
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  }
}

/** moby.filesync.v1.CredentialsRequest {string Host = 1}. */
function decodeCredentialsRequest(bytes: Buffer): string {
  const reader = protobuf.Reader.create(bytes)
  let host = ''
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    if (tag >>> 3 === 1 && (tag & 7) === 2) host = reader.string()
    else reader.skipType(tag & 7)
  }
  return host
}

/** moby.filesync.v1.CredentialsResponse {string Username = 1; string Secret = 2}; empty: anonymous. */
function encodeCredentialsResponse(login: RegistryLogin | null): Buffer {
  const writer = protobuf.Writer.create()
  if (login?.username) writer.uint32(10).string(login.username)
  if (login?.secret) writer.uint32(18).string(login.secret)
  return Buffer.from(writer.finish())
}
