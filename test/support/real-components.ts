import {existsSync} from 'node:fs'

/**
 * Whether the real Docker Engine is reachable. Docker-backed tests use `describe.skipIf(!dockerAvailable)`
 * for developer machines without one; under CI=true a skip is a failure (.ci/run checks the report), and
 * `requireRealComponent` turns a missing engine into a failing test right away.
 */
export const dockerSocket = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock'
export const dockerAvailable = existsSync(dockerSocket)
export const inCI = process.env.CI === 'true' || process.env.CI === '1'
