import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import dotenv from 'dotenv'

import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {BadInputError} from '../errors.js'
import {SecretValue} from './secret-value.js'

/** The secret names the model asks for: every enabled service's `secretKeys`, in order, once each. */
export function requiredSecretNames(resolved: ResolvedConfig): string[] {
  const names = new Set<string>()
  for (const service of SERVICE_NAMES) {
    const config = resolved.config.services[service]
    if (config.enabled) for (const key of config.secretKeys) names.add(key)
  }
  return [...names]
}

export interface SecretResolution {
  values: SecretValue[]
  missing: string[]
  /** The .env file that was read, when it exists. */
  envFile: string | null
}

/**
 * Looks each secret up in the process environment, then in the project's `.env`. Never throws for a
 * missing secret: callers decide (doctor reports, `up` refuses with `assertSecretsPresent`).
 */
export function resolveSecrets(
  resolved: ResolvedConfig,
  environment: NodeJS.ProcessEnv = process.env,
): SecretResolution {
  const names = requiredSecretNames(resolved)
  const dotenvValues = readEnvFile(resolved.envFile)
  const values: SecretValue[] = []
  const missing: string[] = []
  for (const name of names) {
    const fromEnvironment = environment[name]
    if (fromEnvironment !== undefined && fromEnvironment !== '') {
      values.push(new SecretValue(name, fromEnvironment, 'environment'))
      continue
    }
    const fromFile = dotenvValues?.[name]
    if (fromFile !== undefined && fromFile !== '') values.push(new SecretValue(name, fromFile, 'dotenv'))
    else missing.push(name)
  }
  return {values, missing, envFile: dotenvValues === null ? null : resolved.envFile}
}

/** Refuses to go on when a secret is missing: names only, never a value. */
export function assertSecretsPresent(resolution: SecretResolution, resolved: ResolvedConfig): SecretValue[] {
  if (resolution.missing.length === 0) return resolution.values
  const envFile = path.relative(process.cwd(), resolved.envFile) || resolved.envFile
  throw new BadInputError(
    `missing secret${resolution.missing.length === 1 ? '' : 's'}: ${resolution.missing.join(', ')}`,
    {
      where: resolution.envFile ? `the environment and ${envFile}` : `the environment (no ${envFile} file)`,
      fix: `set ${resolution.missing.map((name) => `${name}=...`).join(' ')} in the environment or in ${envFile} (git-ignored; never commit it)`,
    },
  )
}

/** Parses `.env`; a line that is not `KEY=value`, or a key given twice, is an error naming the line. */
export function readEnvFile(file: string): Record<string, string> | null {
  let text: string
  try {
    if (statSync(file).isDirectory())
      throw new BadInputError(`${file} is a directory, not a .env file`, {
        where: file,
        fix: 'remove it or point secrets.envFile at a file',
      })
    text = decodeUtf8(readFileSync(file), file)
  } catch (error) {
    if (error instanceof BadInputError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new BadInputError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`,
      {
        where: file,
        fix: 'check the file permissions',
      },
    )
  }
  validateEnvLines(text, file)
  return dotenv.parse(text)
}

/** The file's text; bytes that are not UTF-8 would silently become U+FFFD inside a secret, so they are refused. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    // Lines before the first bad byte decode; the bad one is the first line that does not.
    const lines = bytes.toString('latin1').split('\n')
    const decoder = new TextDecoder('utf-8', {fatal: true})
    const bad = lines.findIndex((line) => {
      try {
        decoder.decode(Buffer.from(line, 'latin1'))
        return false
      } catch {
        return true
      }
    })
    // No value is shown: the bad bytes may be part of a secret.
    throw new BadInputError(`${file} is not valid UTF-8 (line ${bad + 1})`, {
      where: `${file}:${bad + 1}`,
      fix: 'save the file as UTF-8',
    })
  }
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/

function validateEnvLines(text: string, file: string): void {
  const seen = new Map<string, number>()
  let openQuote: string | null = null
  let openQuoteLine = 0
  const lines = text.split(/\r?\n/)
  for (const [index, line] of lines.entries()) {
    const lineNumber = index + 1
    if (openQuote) {
      if (line.includes(openQuote)) openQuote = null
      continue
    }
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const match = ENV_LINE.exec(line)
    if (!match) {
      throw new BadInputError(`${file}:${lineNumber}: this line is not KEY=value`, {
        where: `${file}:${lineNumber}`,
        fix: 'write each secret as NAME=value (quotes allowed); comments start with #',
      })
    }
    const [, key = '', value = ''] = match
    const firstLine = seen.get(key)
    if (firstLine !== undefined) {
      throw new BadInputError(`${file}:${lineNumber}: ${key} is set twice (first on line ${firstLine})`, {
        where: `${file}:${lineNumber}`,
        fix: `keep one ${key}= line`,
      })
    }
    seen.set(key, lineNumber)
    const quote = value.trimStart()[0]
    if ((quote === '"' || quote === "'" || quote === '`') && !value.trimStart().slice(1).includes(quote)) {
      openQuote = quote
      openQuoteLine = lineNumber
    }
  }
  if (openQuote) {
    throw new BadInputError(`${file}:${openQuoteLine}: a quoted value is never closed`, {
      where: `${file}:${openQuoteLine}`,
      fix: `close the ${openQuote} quote opened on line ${openQuoteLine}`,
    })
  }
}
