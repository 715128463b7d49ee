import {randomBytes} from 'node:crypto'
import {copyFile, cp, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import Docker from 'dockerode'

import {dockerSocket} from './real-components.js'

/** Images built by tests live under this prefix, so cleanup can never touch a real image. */
export const TEST_REPOSITORY_PREFIX = 'todo-deploy-test-'
export const BUSYBOX = '/bin/busybox'
export const buildFixtures = fileURLToPath(new URL('../fixtures/image/', import.meta.url))

export function testDocker(): Docker {
  return new Docker({socketPath: dockerSocket})
}

export function testRepository(name: string): string {
  return `${TEST_REPOSITORY_PREFIX}${name}-${randomBytes(3).toString('hex')}`
}

/** A temp folder holding `files` (relative path -> content) and a copy of the static busybox. */
export async function busyboxContext(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-build-'))
  await copyFile(BUSYBOX, path.join(dir, 'busybox'))
  await writeFiles(dir, files)
  return dir
}

/**
 * A copy of test/fixtures/image/app plus busybox and the files git would not keep in the fixture
 * (node_modules, .env, *.log are git-ignored in this repository).
 */
export async function appContext(): Promise<string> {
  const dir = await busyboxContext()
  await cp(path.join(buildFixtures, 'app'), dir, {recursive: true})
  await writeFiles(dir, {
    'node_modules/left-pad/index.js': 'module.exports = (s) => s\n',
    '.env': 'API_KEY=test-secret-value\n',
    'debug.log': 'debug noise\n',
    'keep.log': 'kept: the .dockerignore has an exception for it\n',
  })
  return dir
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), {recursive: true})
    await writeFile(path.join(dir, file), content)
  }
}

/** Removes every image of a test repository (refuses anything outside the test prefix). */
export async function removeTestImages(repository: string): Promise<void> {
  if (!repository.startsWith(TEST_REPOSITORY_PREFIX)) throw new Error(`not a test repository: ${repository}`)
  const docker = testDocker()
  const images = await docker.listImages({filters: {reference: [repository]}})
  // By tag, not by ID: the classic builder gives identical content one ID, so another test's image (or a
  // cached child built on it) can share this one; an ID removal took its tags too, or failed with 409.
  const tags = images
    .flatMap((image) => image.RepoTags ?? [])
    .filter((tag) => tag.startsWith(`${repository}:`))
  for (const tag of tags) await docker.getImage(tag).remove()
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, {recursive: true, force: true})
}
