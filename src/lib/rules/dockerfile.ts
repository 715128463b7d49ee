import {DockerfileParser, type Instruction} from 'dockerfile-ast'

import {violationReporter, type RuleViolation} from './catalogue.js'
import {parseImageReference} from './image-reference.js'

export interface DockerfileCheckOptions {
  /** Shown as the object of each violation, e.g. `docker/backend.Dockerfile`. */
  path: string
  /** The UID the Kubernetes pods run as (securityContext.runAsUser); the image's USER must be it. */
  expectedUid?: number
}

interface Stage {
  from: Instruction
  /** Image the stage starts from, variables expanded; the name of an earlier stage when it builds on one. */
  base: string
  alias?: string
  instructions: Instruction[]
}

/**
 * Rules image.multi-stage, image.alpine-base, image.non-root and image.healthcheck, read from the
 * parsed Dockerfile (dockerfile-ast), so line continuations, comments, ARG defaults and `AS` aliases
 * are handled as Docker handles them.
 *
 * `FROM scratch` is reported as a warning, not an error: scratch images have no libc or package
 * manager to exploit and are what this project's own fixture images use (no registry reachable),
 * but the data model's images are alpine-based.
 */
export function checkDockerfile(text: string, options: DockerfileCheckOptions): RuleViolation[] {
  const stages = splitStages(text)
  const at = (instruction: Instruction) => `line ${instruction.getRange().start.line + 1}`
  const violations: RuleViolation[] = []
  const report = violationReporter(violations, options.path)

  const final = stages.at(-1)
  if (!final) {
    report(
      'image.multi-stage',
      'error',
      'FROM',
      'the Dockerfile has no FROM instruction',
      'start with `FROM <base> AS builder`',
    )
    return violations
  }
  if (stages.length < 2) {
    report(
      'image.multi-stage',
      'error',
      at(final.from),
      'single-stage build: build tools and caches end up in the runtime image',
      'build in a `FROM ... AS builder` stage and COPY --from=builder only what runs into a second stage',
    )
  }

  const aliases = new Set<string>()
  for (const stage of stages) {
    const base = stage.base.toLowerCase()
    if (aliases.has(base)) {
      // builds on an earlier stage: its base was checked there
    } else if (base === 'scratch') {
      report(
        'image.alpine-base',
        'warn',
        at(stage.from),
        'stage starts FROM scratch, not an alpine image',
        'use node:18-alpine / python:3.9-alpine unless scratch is intended',
      )
    } else if (!isAlpine(stage.base)) {
      report(
        'image.alpine-base',
        'error',
        at(stage.from),
        `stage starts FROM ${stage.base}, not an alpine image`,
        'use an -alpine tag, e.g. node:18-alpine or python:3.9-alpine',
      )
    }
    if (stage.alias) aliases.add(stage.alias.toLowerCase())
  }

  checkUser(final, options.expectedUid, at, report)

  const healthchecks = final.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK')
  const lastHealthcheck = healthchecks.at(-1)
  if (!lastHealthcheck) {
    report(
      'image.healthcheck',
      'error',
      at(final.from),
      'the runtime stage has no HEALTHCHECK',
      'add e.g. `HEALTHCHECK CMD wget -qO- http://127.0.0.1:3000/ || exit 1`',
    )
  } else if (lastHealthcheck.getArguments()[0]?.getValue().toUpperCase() === 'NONE') {
    report(
      'image.healthcheck',
      'error',
      at(lastHealthcheck),
      'HEALTHCHECK NONE turns the health check off',
      'replace it with `HEALTHCHECK CMD <call the health endpoint>`',
    )
  }
  return violations
}

function splitStages(text: string): Stage[] {
  const stages: Stage[] = []
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      // expanded arguments resolve `FROM ${BASE}` from ARG defaults; flags such as --platform come first
      const words = instruction
        .getExpandedArguments()
        .map((a) => a.getValue())
        .filter((w) => !w.startsWith('--'))
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS')
      stages.push({
        from: instruction,
        base: words[0] ?? '',
        alias: asIndex >= 0 ? words[asIndex + 1] : undefined,
        instructions: [],
      })
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return stages
}

function isAlpine(base: string): boolean {
  const {name, tag} = parseImageReference(base)
  return name.split('/').at(-1) === 'alpine' || (tag ?? '').includes('alpine')
}

function checkUser(
  final: Stage,
  expectedUid: number | undefined,
  at: (i: Instruction) => string,
  report: (
    id: RuleViolation['id'],
    severity: RuleViolation['severity'],
    field: string,
    message: string,
    fix: string,
  ) => void,
): void {
  const user = final.instructions.filter((i) => i.getKeyword() === 'USER').at(-1)
  const uidFix = `add a user (e.g. \`RUN adduser -S -u ${expectedUid ?? 1001} app\`) and end the runtime stage with \`USER ${expectedUid ?? 1001}\``
  if (!user) {
    report(
      'image.non-root',
      'error',
      at(final.from),
      'the runtime stage has no USER: the container runs as root',
      uidFix,
    )
    return
  }
  const spec = user.getExpandedArguments()[0]?.getValue() ?? ''
  const [name = ''] = spec.split(':')
  if (name === 'root' || name === '0') {
    report('image.non-root', 'error', at(user), `the runtime stage runs as ${spec}`, uidFix)
    return
  }
  if (expectedUid === undefined) return
  const uid = /^\d+$/.test(name) ? Number(name) : uidOfUser(final, name)
  if (uid === undefined) {
    report(
      'image.non-root',
      'warn',
      at(user),
      `USER ${name} is a name whose UID this Dockerfile does not set; the pods run as ${expectedUid}`,
      `create the user with \`-u ${expectedUid}\` or write \`USER ${expectedUid}\``,
    )
  } else if (uid !== expectedUid) {
    report(
      'image.non-root',
      'error',
      at(user),
      `the image runs as UID ${uid} but the pods run as ${expectedUid}: files it owns may be unreadable`,
      `use UID ${expectedUid} (\`USER ${expectedUid}\`)`,
    )
  }
}

/** The UID a RUN in the stage gives `name` (`adduser -u 1001 name`, `useradd --uid 1001 name`, ...). */
function uidOfUser(stage: Stage, name: string): number | undefined {
  for (const run of stage.instructions.filter((i) => i.getKeyword() === 'RUN')) {
    for (const command of (run.getArgumentsContent() ?? '').split(/&&|;|\|\|/)) {
      const words = command.trim().split(/\s+/)
      if (!/^(adduser|useradd)$/.test(words[0] ?? '') || !words.includes(name)) continue
      const flag = words.findIndex((w) => w === '-u' || w === '--uid')
      const value = flag >= 0 ? words[flag + 1] : undefined
      if (value && /^\d+$/.test(value)) return Number(value)
    }
  }
  return undefined
}
