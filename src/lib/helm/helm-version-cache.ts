import {mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {HelmVersion} from './helm-client.js'

interface Remembered extends HelmVersion {
  binary: string
  size: number
  mtimeMs: number
}

/**
 * helm's version, remembered per binary: every `up` states it in its preflight, and asking helm costs a
 * process start. Keyed by the binary's resolved path, size and modification time, so an upgraded or
 * replaced helm is asked again; a helm that is not on PATH is always asked (and its absence reported).
 */
export class HelmVersionCache {
  constructor(
    private readonly file: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async remembered(binary: string, ask: () => Promise<HelmVersion>): Promise<HelmVersion> {
    const found = this.locate(binary)
    if (!found) return ask()
    const cached = this.read()
    if (
      cached &&
      cached.binary === found.binary &&
      cached.size === found.size &&
      cached.mtimeMs === found.mtimeMs
    )
      return {version: cached.version, major: cached.major}
    const version = await ask()
    this.write({...found, ...version})
    return version
  }

  /** The executable a process start would run: a path as given, else the first match on PATH. */
  private locate(binary: string): Omit<Remembered, keyof HelmVersion> | undefined {
    // Windows resolves through PATHEXT too; there helm is simply asked each time.
    if (process.platform === 'win32') return undefined
    const candidates = binary.includes('/')
      ? [path.resolve(binary)]
      : (this.env.PATH ?? '')
          .split(path.delimiter)
          .filter(Boolean)
          .map((dir) => path.join(dir, binary))
    for (const candidate of candidates) {
      try {
        const stats = statSync(candidate)
        if (stats.isFile() && (stats.mode & 0o111) !== 0)
          return {binary: candidate, size: stats.size, mtimeMs: stats.mtimeMs}
      } catch {
        // Not in this folder: the next one.
      }
    }
    return undefined
  }

  private read(): Remembered | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Remembered>
      return typeof parsed.version === 'string' && (parsed.major === 3 || parsed.major === 4)
        ? (parsed as Remembered)
        : undefined
    } catch {
      return undefined
    }
  }

  /** Best effort: a cache that cannot be written only means helm is asked next time too. */
  private write(entry: Remembered): void {
    try {
      mkdirSync(path.dirname(this.file), {recursive: true})
      const temporary = `${this.file}.${process.pid}.tmp`
      writeFileSync(temporary, JSON.stringify(entry))
      renameSync(temporary, this.file)
    } catch {
      // Read-only home, full disk: nothing to do.
    }
  }
}
