import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {checkDockerfile, hasErrors, type RuleViolation} from '../../src/lib/rules/index.js'
import {projectRoot} from '../support/helm-template.js'

const check = (text: string, expectedUid?: number) => checkDockerfile(text, {path: 'Dockerfile', expectedUid})
const summary = (violations: RuleViolation[]) => violations.map((v) => `${v.id}:${v.severity}@${v.field}`)

const GOOD = `
ARG NODE_IMAGE=node:18-alpine
FROM \${NODE_IMAGE} AS builder
RUN npm ci && npm run build

FROM node:18-alpine
RUN addgroup -S -g 1001 nodejs \\
    && adduser -S -u 1001 -G nodejs nextjs
COPY --from=builder /app/.next ./.next
USER nextjs
HEALTHCHECK CMD wget -qO- http://127.0.0.1:3000/ || exit 1
`

describe('checkDockerfile', () => {
  it.each(['frontend', 'backend'])(
    'passes the real docker/%s.Dockerfile with no violation at all',
    (name) => {
      const file = path.join(projectRoot, 'docker', `${name}.Dockerfile`)
      expect(
        checkDockerfile(readFileSync(file, 'utf8'), {path: `docker/${name}.Dockerfile`, expectedUid: 1001}),
      ).toEqual([])
    },
  )

  it('passes a Dockerfile whose user is created with UID 1001 by adduser across a line continuation', () => {
    expect(check(GOOD, 1001)).toEqual([])
  })

  it('reports a single stage (image.multi-stage) at its FROM line', () => {
    const violations = check(
      'FROM node:18-alpine\nUSER 1001\nHEALTHCHECK CMD wget -qO- http://127.0.0.1:3000/\n',
    )
    expect(summary(violations)).toEqual(['image.multi-stage:error@line 1'])
  })

  it('reports a non-alpine base (image.alpine-base) but not a stage built on an earlier one', () => {
    const violations = check(
      'FROM node:18 AS builder\nFROM builder AS test\nFROM python:3.9-slim\nUSER 1001\nHEALTHCHECK CMD true\n',
    )
    expect(summary(violations)).toEqual(['image.alpine-base:error@line 1', 'image.alpine-base:error@line 3'])
    expect(violations[0]?.message).toContain('node:18')
  })

  it('resolves FROM ${ARG} to the ARG default before judging the base', () => {
    const violations = check(
      'ARG BASE=debian:12\nFROM ${BASE} AS b\nFROM alpine:3.20\nUSER 1001\nHEALTHCHECK CMD true\n',
    )
    expect(summary(violations)).toEqual(['image.alpine-base:error@line 2'])
  })

  it('treats FROM scratch as a warning, so a scratch image still passes', () => {
    const violations = check(
      'FROM scratch AS b\nFROM scratch\nUSER 1001\nHEALTHCHECK CMD ["/bin/true"]\n',
      1001,
    )
    expect(summary(violations)).toEqual(['image.alpine-base:warn@line 1', 'image.alpine-base:warn@line 2'])
    expect(hasErrors(violations)).toBe(false)
  })

  it('reports a runtime stage without USER (image.non-root), even when the builder has one', () => {
    const violations = check('FROM alpine:3.20 AS b\nUSER 1001\nFROM alpine:3.20\nHEALTHCHECK CMD true\n')
    expect(summary(violations)).toEqual(['image.non-root:error@line 3'])
    expect(violations[0]?.message).toContain('root')
  })

  it.each(['root', '0', '0:0'])('reports USER %s (image.non-root)', (user) => {
    expect(
      summary(check(`FROM alpine:3.20 AS b\nFROM alpine:3.20\nUSER ${user}\nHEALTHCHECK CMD true\n`)),
    ).toEqual(['image.non-root:error@line 3'])
  })

  it('reports a UID other than the pods’ runAsUser, and warns when a named user has no known UID', () => {
    expect(
      summary(check('FROM alpine:3.20 AS b\nFROM alpine:3.20\nUSER 1000\nHEALTHCHECK CMD true\n', 1001)),
    ).toEqual(['image.non-root:error@line 3'])
    expect(
      summary(
        check(
          'FROM alpine:3.20 AS b\nFROM alpine:3.20\nRUN adduser -S app\nUSER app\nHEALTHCHECK CMD true\n',
          1001,
        ),
      ),
    ).toEqual(['image.non-root:warn@line 4'])
  })

  it('reports a missing HEALTHCHECK and HEALTHCHECK NONE (image.healthcheck)', () => {
    expect(
      summary(check('FROM alpine:3.20 AS b\nHEALTHCHECK CMD true\nFROM alpine:3.20\nUSER 1001\n')),
    ).toEqual(['image.healthcheck:error@line 3'])
    expect(summary(check('FROM alpine:3.20 AS b\nFROM alpine:3.20\nUSER 1001\nHEALTHCHECK NONE\n'))).toEqual([
      'image.healthcheck:error@line 4',
    ])
  })

  it('reports an empty Dockerfile', () => {
    expect(summary(check('# nothing\n'))).toEqual(['image.multi-stage:error@FROM'])
  })
})
