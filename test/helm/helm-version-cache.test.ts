import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ExitCode, PrerequisiteError} from '../../src/lib/errors.js'
import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import {HelmVersionCache} from '../../src/lib/helm/helm-version-cache.js'
import {
  ExecaProcessRunner,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '../../src/lib/process/runner.js'

// A `helm` on PATH that prints a version and counts its starts: the process start, through the real
// runner, is what the cache saves.
let dir: string
let bin: string
let runs: string

/** The real runner, with this test's PATH. */
class PathRunner implements ProcessRunner {
  private readonly real = new ExecaProcessRunner()
  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return this.real.run(file, args, {...options, env: {...options.env, PATH: searchPath()}})
  }
}

function searchPath(): string {
  return `${bin}:/usr/bin:/bin`
}

function installHelm(version: string): string {
  const helm = path.join(bin, 'helm')
  writeFileSync(helm, `#!/bin/sh\necho started >> "${runs}"\necho "${version}"\n`)
  chmodSync(helm, 0o755)
  return helm
}

function starts(): number {
  try {
    return readFileSync(runs, 'utf8').split('\n').filter(Boolean).length
  } catch {
    return 0
  }
}

/** A new CLI process: a fresh HelmCli over the same cache file. */
function helm(): HelmCli {
  const cache = new HelmVersionCache(path.join(dir, 'cache', 'helm-version.json'), {PATH: searchPath()})
  return new HelmCli(new PathRunner(), {versionCache: cache})
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-helm-version-'))
  bin = path.join(dir, 'bin')
  runs = path.join(dir, 'runs')
  mkdirSync(bin)
})

afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe('HelmVersionCache', () => {
  it('asks helm once; later runs with the same binary start no helm process', async () => {
    installHelm('v3.17.2+gcc0bbbd')
    expect(await helm().version()).toEqual({version: 'v3.17.2+gcc0bbbd', major: 3})
    expect(await helm().version()).toEqual({version: 'v3.17.2+gcc0bbbd', major: 3})
    expect(await helm().version()).toEqual({version: 'v3.17.2+gcc0bbbd', major: 3})
    expect(starts()).toBe(1)
  })

  it('asks again when the binary on PATH is replaced (an upgrade to helm 4)', async () => {
    installHelm('v3.17.2+gcc0bbbd')
    await helm().version()
    const upgraded = installHelm('v4.1.0+g4d2bd3c')
    // An upgrade changes the file; a same-size rewrite within the same instant still moves its mtime here.
    utimesSync(upgraded, new Date(), new Date(Date.now() + 5000))
    expect(await helm().version()).toEqual({version: 'v4.1.0+g4d2bd3c', major: 4})
    expect(starts()).toBe(2)
  })

  it('with no helm on PATH still reports the missing prerequisite (exit 3), even after a cached answer', async () => {
    const installed = installHelm('v3.17.2+gcc0bbbd')
    await helm().version()
    rmSync(installed)
    const error = await helm()
      .version()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).exitCode).toBe(ExitCode.Prerequisite)
    expect((error as PrerequisiteError).fix).toMatch(/helm/)
  })

  it('a cache file that is damaged is asked past, then rewritten', async () => {
    installHelm('v3.17.2+gcc0bbbd')
    mkdirSync(path.join(dir, 'cache'))
    writeFileSync(path.join(dir, 'cache', 'helm-version.json'), '{not json')
    expect(await helm().version()).toEqual({version: 'v3.17.2+gcc0bbbd', major: 3})
    expect(await helm().version()).toEqual({version: 'v3.17.2+gcc0bbbd', major: 3})
    expect(starts()).toBe(1)
  })
})
