import {realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import {BadInputError} from '../errors.js'
import type {ResolvedConfig} from './load.js'
import {SERVICE_NAMES} from './schema.js'

/** A build context or Dockerfile that cannot be built from, with the config key that names it. */
export interface BuildInputProblem {
  /** `file:line:col` of the key, or "(built-in default)". */
  where: string
  keyPath: string
  message: string
  fix: string
}

/**
 * The build inputs of every enabled service as the disk has them: the context is a folder inside the
 * project once symlinks are resolved, and the Dockerfile is a file. Local and quick, so commands ask it
 * before anything that needs the cluster: a wrong path is the user's to fix whether or not a cluster runs.
 */
export function findBuildInputProblems(resolved: ResolvedConfig): BuildInputProblem[] {
  const problems: BuildInputProblem[] = []
  const projectDir = realOrSelf(resolved.projectDir)
  for (const name of SERVICE_NAMES) {
    const service = resolved.config.services[name]
    if (!service.enabled) continue
    const contextKey = ['services', name, 'build', 'context']
    const at = (keyPath: string[]): Pick<BuildInputProblem, 'where' | 'keyPath'> => ({
      where: resolved.locate(keyPath) ?? '(built-in default)',
      keyPath: keyPath.join('.'),
    })
    const {contextDir, dockerfile} = resolved.services[name]
    const context = kindOf(contextDir)
    if (context === 'missing') {
      problems.push({
        ...at(contextKey),
        message: `the build context "${service.build.context}" does not exist (${contextDir})`,
        fix: `create the folder, or point ${contextKey.join('.')} at the folder holding the ${name}'s source`,
      })
    } else if (context === 'file') {
      problems.push({
        ...at(contextKey),
        message: `the build context "${service.build.context}" is a file, not a folder`,
        fix: `point ${contextKey.join('.')} at the folder holding the ${name}'s source`,
      })
    } else if (!isInside(projectDir, realpathSync(contextDir))) {
      problems.push({
        ...at(contextKey),
        message: `the build context "${service.build.context}" is a symlink to ${realpathSync(contextDir)}, outside the project folder ${resolved.projectDir}`,
        fix: `point ${contextKey.join('.')} at a real folder inside the project (the build would send files from outside it)`,
      })
    }
    // A missing context already explains a missing Dockerfile inside it.
    if (context !== 'folder' && isInside(contextDir, dockerfile)) continue
    const dockerfileKey = ['services', name, 'build', 'dockerfile']
    const dockerfileKind = kindOf(dockerfile)
    if (dockerfileKind !== 'file') {
      problems.push({
        ...at(dockerfileKey),
        message: `the Dockerfile "${service.build.dockerfile ?? dockerfile}" ${dockerfileKind === 'missing' ? 'does not exist' : 'is a folder, not a file'} (${dockerfile})`,
        fix: `create it, or point ${dockerfileKey.join('.')} at the ${name}'s Dockerfile (or leave the key out for the bundled one)`,
      })
    }
  }
  return problems
}

/** Refuses (exit 2) build inputs that cannot be built from, naming every one with its place in the file. */
export function assertBuildInputs(resolved: ResolvedConfig): void {
  const problems = findBuildInputProblems(resolved)
  const [first] = problems
  if (first === undefined) return
  const details = problems.map((problem) => `${problem.where}  ${problem.keyPath}: ${problem.message}`)
  throw new BadInputError(
    problems.length === 1
      ? `${first.keyPath}: ${first.message}`
      : `${problems.length} build inputs are missing or misplaced`,
    {
      where: first.where,
      details: problems.length === 1 ? [] : details,
      fix:
        problems.length === 1 ? first.fix : [...new Set(problems.map((problem) => problem.fix))].join('; '),
    },
  )
}

function kindOf(file: string): 'folder' | 'file' | 'missing' {
  try {
    return statSync(file).isDirectory() ? 'folder' : 'file'
  } catch {
    return 'missing'
  }
}

function realOrSelf(dir: string): string {
  try {
    return realpathSync(dir)
  } catch {
    return dir
  }
}

function isInside(dir: string, target: string): boolean {
  const relative = path.relative(dir, target)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}
