import {chmod, mkdir, rm, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {
  contentEntry,
  contextEntries,
  decodePacket,
  encodePacket,
  filterEntries,
  goFileMode,
  PacketType,
  sendEntries,
  type Packet,
  type SyncEntry,
} from '../../src/lib/image/context-sync.js'
import {busyboxContext, removeDir, writeFiles} from '../support/docker-fixtures.js'

const GO_DIR = 2 ** 31
const GO_SYMLINK = 2 ** 27

describe('contextEntries', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map(removeDir))
  })

  async function contextOf(files: Record<string, string>, dockerfile = 'Dockerfile'): Promise<BuildContext> {
    const dir = await busyboxContext(files)
    dirs.push(dir)
    return BuildContext.scan(dir, path.join(dir, dockerfile))
  }

  it('lists folders before their files, names in byte order, as BuildKit checks the walk', async () => {
    // String order would put "a-b/x" before "a/x"; the walk enters "a" first ("a" < "a-b").
    const context = await contextOf({
      'a/x': '1',
      'a-b/x': '2',
      'a/b/c': '3',
      Dockerfile: 'FROM scratch\n',
      'Z.txt': 'upper case sorts first',
    })
    const entries = await contextEntries(context, 'FROM scratch\n')
    expect(entries.map((entry) => entry.stat.path)).toEqual([
      'Dockerfile',
      'Z.txt',
      'a',
      'a/b',
      'a/b/c',
      'a/x',
      'a-b',
      'a-b/x',
      'busybox',
    ])
    const folder = entries.find((entry) => entry.stat.path === 'a/b')!
    expect(folder.stat.mode).toBe(GO_DIR + 0o755)
    expect(folder.file).toBeUndefined()
  })

  it('describes files with their size, time and permission bits, and symlinks by their target', async () => {
    const context = await contextOf({'run.sh': 'echo hi\n', Dockerfile: 'FROM scratch\n'})
    await chmod(path.join(context.dir, 'run.sh'), 0o750)
    await symlink('run.sh', path.join(context.dir, 'latest.sh'))
    const rescanned = await BuildContext.scan(context.dir, path.join(context.dir, 'Dockerfile'))
    const entries = await contextEntries(rescanned, 'FROM scratch\n')
    const byPath = new Map(entries.map((entry) => [entry.stat.path, entry]))
    expect(byPath.get('run.sh')?.stat).toMatchObject({mode: 0o750, size: 8})
    expect(byPath.get('run.sh')?.stat.modTimeNs).toBeGreaterThan(1_600_000_000_000_000_000n)
    expect(byPath.get('latest.sh')?.stat).toMatchObject({mode: GO_SYMLINK + 0o777, linkname: 'run.sh'})
    expect(byPath.get('latest.sh')?.file).toBeUndefined()
  })

  it('sends the Dockerfile as the text that was hashed and .dockerignore as the rules that were applied', async () => {
    const context = await contextOf({
      Dockerfile: 'FROM scratch # on disk\n',
      '.dockerignore': 'secret.env\n',
      'secret.env': 'TOKEN=test-secret-value\n',
    })
    const entries = await contextEntries(context, 'FROM scratch # hashed\n')
    expect(entries.map((entry) => entry.stat.path)).not.toContain('secret.env')
    expect(entries.find((entry) => entry.stat.path === 'Dockerfile')?.content?.toString()).toBe(
      'FROM scratch # hashed\n',
    )
    expect(entries.find((entry) => entry.stat.path === '.dockerignore')?.content?.toString()).toBe(
      'secret.env\n',
    )
  })

  it('names a file that disappeared since the scan', async () => {
    const context = await contextOf({'data/gone.txt': 'x', Dockerfile: 'FROM scratch\n'})
    await rm(path.join(context.dir, 'data', 'gone.txt'))
    await expect(contextEntries(context, 'FROM scratch\n')).rejects.toMatchObject({
      code: 'ENOENT',
      path: path.join(context.dir, 'data', 'gone.txt'),
    })
  })
})

describe('goFileMode', () => {
  it("puts Go's type bits on a Unix mode: folder, symlink, setuid", () => {
    expect(goFileMode(0o40755, 'linux')).toBe(GO_DIR + 0o755)
    expect(goFileMode(0o120777, 'linux')).toBe(GO_SYMLINK + 0o777)
    expect(goFileMode(0o104755, 'linux')).toBe(2 ** 23 + 0o755)
    expect(goFileMode(0o100640, 'linux')).toBe(0o640)
  })

  it('sends 0o755 for what Windows reports as 0o666, as the docker CLI does, so folders can be entered', () => {
    expect(goFileMode(0o40666, 'win32')).toBe(GO_DIR + 0o755)
    expect(goFileMode(0o100666, 'win32')).toBe(0o755)
  })
})

describe('contentEntry', () => {
  it('changes its time whenever its content changes, so a receiver that compares times asks again', () => {
    const first = contentEntry('Dockerfile', Buffer.from('FROM scratch\nCOPY a /\n'))
    const same = contentEntry('Dockerfile', Buffer.from('FROM scratch\nCOPY a /\n'))
    const edited = contentEntry('Dockerfile', Buffer.from('FROM scratch\nCOPY b /\n'))
    expect(same.stat).toEqual(first.stat)
    expect(edited.stat.size).toBe(first.stat.size)
    expect(edited.stat.modTimeNs).not.toBe(first.stat.modTimeNs)
  })
})

describe('filterEntries', () => {
  const entry = (path: string, mode = 0o644): SyncEntry => ({stat: {path, mode, size: 1, modTimeNs: 1n}})
  const entries = [
    entry('.dockerignore'),
    entry('Dockerfile'),
    entry('docs', GO_DIR + 0o755),
    entry('docs/readme.md'),
    entry('src', GO_DIR + 0o755),
    entry('src/app.js'),
    entry('src/app.test.js'),
  ]
  const paths = (selected: SyncEntry[]): string[] => selected.map((selectedEntry) => selectedEntry.stat.path)

  it('keeps everything without patterns', () => {
    expect(paths(filterEntries(entries, {}))).toEqual(paths(entries))
  })

  it("keeps everything for the context's root, as a COPY . source can name it", () => {
    expect(paths(filterEntries(entries, {followPaths: ['.']}))).toEqual(paths(entries))
    expect(paths(filterEntries(entries, {includePatterns: ['/'], excludePatterns: ['docs']}))).not.toContain(
      'docs/readme.md',
    )
  })

  it('keeps only what include patterns name (how the Dockerfile and .dockerignore are fetched)', () => {
    expect(paths(filterEntries(entries, {includePatterns: ['.dockerignore']}))).toEqual(['.dockerignore'])
    expect(paths(filterEntries(entries, {includePatterns: ['src']}))).toEqual([
      'src',
      'src/app.js',
      'src/app.test.js',
    ])
  })

  it('takes + ( ) | { } literally, as Docker does (a Next.js route group, a c++ folder)', () => {
    const special = [
      entry('app', GO_DIR + 0o755),
      entry('app/(site)', GO_DIR + 0o755),
      entry('app/(site)/page.tsx'),
      entry('app/page.tsx'),
      entry('c++', GO_DIR + 0o755),
      entry('c++/main.cpp'),
      entry('src', GO_DIR + 0o755),
      entry('src/zz'),
    ]
    expect(paths(filterEntries(special, {includePatterns: ['app/(site)']}))).toEqual([
      'app',
      'app/(site)',
      'app/(site)/page.tsx',
    ])
    expect(paths(filterEntries(special, {includePatterns: ['c++/main.cpp']}))).toEqual([
      'c++',
      'c++/main.cpp',
    ])
    // `x|src` is a file name, not "x or src".
    expect(paths(filterEntries(special, {excludePatterns: ['x|src']}))).toContain('src/zz')
  })

  it('follows a symlink on the way of a followed path, so the link and its target are both sent', () => {
    const link = (path: string, linkname: string): SyncEntry => ({
      stat: {path, mode: GO_SYMLINK + 0o777, size: 0, modTimeNs: 1n, linkname},
    })
    const linked = [
      entry('conf', GO_DIR + 0o755),
      entry('conf/prod.yaml'),
      entry('conf/test.yaml'),
      link('config.yaml', 'conf/prod.yaml'),
      link('lib', '/vendor/lib'),
      entry('other.txt'),
      entry('vendor', GO_DIR + 0o755),
      entry('vendor/lib', GO_DIR + 0o755),
      entry('vendor/lib/x.js'),
      entry('vendor/lib/y.js'),
    ]
    expect(paths(filterEntries(linked, {followPaths: ['config.yaml']}))).toEqual([
      'conf',
      'conf/prod.yaml',
      'config.yaml',
    ])
    // Through a linked folder, with an absolute target taken from the context's root.
    expect(paths(filterEntries(linked, {followPaths: ['lib/x.js']}))).toEqual([
      'lib',
      'vendor',
      'vendor/lib',
      'vendor/lib/x.js',
    ])
  })

  it('drops what exclude patterns name, with the folders left empty, and honours exceptions', () => {
    expect(paths(filterEntries(entries, {excludePatterns: ['docs', '**/*.test.js']}))).toEqual([
      '.dockerignore',
      'Dockerfile',
      'src',
      'src/app.js',
    ])
    expect(paths(filterEntries(entries, {excludePatterns: ['src/*', '!src/app.js']}))).toContain('src/app.js')
  })
})

describe('the diffcopy packets', () => {
  it('round-trips what a receiver sends: a request for a file and the end', () => {
    expect(decodePacket(encodePacket({type: PacketType.Request, id: 7}))).toEqual({
      type: PacketType.Request,
      id: 7,
    })
    expect(decodePacket(encodePacket({type: PacketType.Finish}))).toEqual({type: PacketType.Finish})
    // Go's proto3 leaves zero values out: a request for entry 0 is the type alone.
    expect(decodePacket(Buffer.from([0x08, 0x01]))).toEqual({type: PacketType.Request})
  })

  it('encodes a stat as fsutil declares it (path 1, mode 2, size 5, modTime 6, linkname 7)', () => {
    const bytes = encodePacket({
      type: PacketType.Stat,
      stat: {path: 'a', mode: goFileMode(0o40755), size: 0, modTimeNs: 1_700_000_000_123_456_789n},
    })
    const hex = Buffer.from(bytes).toString('hex')
    // field 2 (stat), then path "a", then mode 0x800001ed as a varint.
    expect(hex.startsWith('12')).toBe(true)
    expect(hex).toContain('0a0161')
    expect(hex).toContain(`10${varint(2 ** 31 + 0o755)}`)
    expect(hex).toContain(`30${varint(1_700_000_000_123_456_789n)}`)
  })
})

function varint(value: number | bigint): string {
  let rest = BigInt(value)
  const bytes: number[] = []
  while (rest >= 0x80n) {
    bytes.push(Number((rest & 0x7fn) | 0x80n))
    rest >>= 7n
  }
  bytes.push(Number(rest))
  return Buffer.from(bytes).toString('hex')
}

/** A receiver as BuildKit plays it: reads the walk, asks for some files by index, then ends with FIN. */
function receiver(wanted: string[]): {
  channel: {send(packet: Packet): Promise<void>; received: AsyncIterable<Packet>}
  files: Map<string, Buffer>
  walk: string[]
  finished: Promise<void>
} {
  const walk: string[] = []
  const files = new Map<string, Buffer>()
  const outbox: Packet[] = []
  let wake: (() => void) | undefined
  let walkDone = false
  let pending = 0
  let resolveFinished!: () => void
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve))
  const push = (packet: Packet): void => {
    outbox.push(packet)
    wake?.()
  }
  const received: AsyncIterable<Packet> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (outbox.length > 0) {
          const packet = outbox.shift()!
          yield packet
          if (packet.type === PacketType.Finish) return
        }
        await new Promise<void>((resolve) => (wake = resolve))
      }
    },
  }
  const send = async (packet: Packet): Promise<void> => {
    if (packet.type === PacketType.Stat) {
      if (!packet.stat) {
        walkDone = true
        if (pending === 0) push({type: PacketType.Finish})
        return
      }
      const index = walk.length
      walk.push(packet.stat.path)
      if (wanted.includes(packet.stat.path)) {
        pending++
        files.set(String(index), Buffer.alloc(0))
        push({type: PacketType.Request, id: index})
      }
    } else if (packet.type === PacketType.Data) {
      const key = String(packet.id ?? 0)
      if (packet.data && packet.data.length > 0) {
        files.set(key, Buffer.concat([files.get(key)!, Buffer.from(packet.data)]))
      } else {
        files.set(walk[Number(key)]!, files.get(key)!)
        files.delete(key)
        pending--
        if (walkDone && pending === 0) push({type: PacketType.Finish})
      }
    } else if (packet.type === PacketType.Finish) {
      resolveFinished()
    }
  }
  return {channel: {send, received}, files, walk, finished}
}

describe('sendEntries', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map(removeDir))
  })

  it('walks every entry, sends only the files asked for, and answers FIN', async () => {
    const dir = await busyboxContext()
    dirs.push(dir)
    await mkdir(path.join(dir, 'src'))
    const big = Buffer.alloc(600_000, 7)
    await writeFiles(dir, {'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n'})
    await writeFile(path.join(dir, 'big.bin'), big)
    const context = await BuildContext.scan(dir)
    const entries = await contextEntries(context, 'FROM scratch\n')
    const {channel, files, walk, finished} = receiver(['src/b.txt', 'big.bin'])

    const report = await sendEntries(entries, channel, (_entry, error) => error as Error)
    await finished
    expect(walk).toEqual(entries.map((entry) => entry.stat.path))
    expect([...files.keys()].sort()).toEqual(['big.bin', 'src/b.txt'])
    expect(files.get('src/b.txt')?.toString()).toBe('beta\n')
    expect(files.get('big.bin')?.equals(big)).toBe(true)
    // busybox, big.bin, src/a.txt and src/b.txt could be asked for; two were.
    expect(report).toEqual({
      listed: ['big.bin', 'busybox', 'src/a.txt', 'src/b.txt'],
      sent: ['big.bin', 'src/b.txt'],
      bytesSent: big.length + 5,
    })
  })

  it('ends with an error packet and the caller’s error when an asked-for file cannot be read', async () => {
    const dir = await busyboxContext({'gone.txt': 'soon gone\n'})
    dirs.push(dir)
    const context = await BuildContext.scan(dir)
    const entries = await contextEntries(context, 'FROM scratch\n')
    await rm(path.join(dir, 'gone.txt'))
    const sent: Packet[] = []
    const {channel} = receiver(['gone.txt'])
    const recording = {
      ...channel,
      send: async (packet: Packet) => {
        sent.push(packet)
        await channel.send(packet)
      },
    }
    await expect(
      sendEntries(entries, recording, (entry) => new Error(`cannot read ${entry.stat.path}`)),
    ).rejects.toThrow('cannot read gone.txt')
    expect(sent.at(-1)).toMatchObject({type: PacketType.Error})
  })
})
