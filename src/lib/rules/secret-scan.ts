import type {RuleViolation} from './catalogue.js'

export interface SecretScanOptions {
  /** Shown in each finding as `file:line`. */
  file: string
  /** Names of the model's secrets (DATABASE_URL, JWT_SECRET, ...): a literal value under one is a leak. */
  secretKeyNames: readonly string[]
}

/** Credential shapes that are secret wherever they appear. */
const CREDENTIAL_SHAPES: {pattern: RegExp; what: string}[] = [
  {pattern: /AIza[0-9A-Za-z_-]{35}/, what: 'a Google API key (AIza...)'},
  {pattern: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/, what: 'an OpenAI-style API key (sk-...)'},
  {pattern: /\bnpg_[A-Za-z0-9]{12,}/, what: 'a Neon database password (npg_...)'},
  {pattern: /\bgh[pousr]_[A-Za-z0-9]{36}/, what: 'a GitHub token'},
  {pattern: /\bAKIA[0-9A-Z]{16}\b/, what: 'an AWS access key id'},
  {pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, what: 'a private key'},
]

/** `scheme://user:password@host`: a password inside a connection string. */
const CONNECTION_STRING = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:([^\s@/'"]+)@/i

/** Environment-variable style names that name a credential (JWT_SECRET, DB_PASSWORD, OPENAI_API_KEY). */
const SECRET_LIKE_NAME =
  /^[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|DATABASE_URL)$/

/**
 * `KEY: value` (YAML), `KEY=value` (.env, Dockerfile ENV), `"KEY": "value"` (JSON); the key may be
 * a list item (`- KEY: v`) or an `export`ed variable.
 */
const KEY_VALUE =
  /^\s*(?:-\s+)?(?:export\s+|ENV\s+|ARG\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*(.*?)\s*,?\s*$/
/** A Kubernetes env entry split over two lines: `- name: KEY` then `value: literal`. */
const ENV_NAME = /^(\s*)-\s+name:\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?\s*$/
const ENV_VALUE = /^(\s*)value:\s*(.*?)\s*$/

/** Is this a value a person typed, rather than a reference, a template or an empty placeholder? */
function isLiteral(raw: string): boolean {
  const value = raw
    .replace(/\s+#.*$/, '')
    .replace(/^["']|["']$/g, '')
    .trim()
  if (value === '' || value === 'null' || value === '~' || value === '{}' || value === '[]') return false
  if (/^(\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_]\w*|\{\{.*\}\}|<[^>]*>)$/.test(value)) return false
  // a nested mapping or block scalar starts on the next line: the key holds no value here
  if (value === '|' || value === '>' || value === '|-' || value === '>-') return false
  return true
}

function isPlaceholderPassword(password: string): boolean {
  return /^(\$\{[^}]*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|<[^>]*>|\*+|x+|\.\.\.)$/i.test(password)
}

/**
 * Rule secrets.plain-text: finds credential values written in plain text (values files, manifests,
 * Dockerfiles, READMEs). A finding names the file, the line and the key or shape; it never carries
 * the value itself, so the report is safe to print and to store.
 */
export function scanForSecrets(text: string, options: SecretScanOptions): RuleViolation[] {
  const names = new Set(options.secretKeyNames)
  const findings: RuleViolation[] = []
  const report = (line: number, field: string, message: string, fix: string) =>
    findings.push({
      id: 'secrets.plain-text',
      severity: 'error',
      object: `${options.file}:${line}`,
      field,
      message,
      fix,
    })
  const lines = text.split(/\r?\n/)
  let pendingEnv: {indent: number; name: string} | undefined

  lines.forEach((content, index) => {
    const lineNumber = index + 1
    const before = findings.length
    const connection = CONNECTION_STRING.exec(content)
    if (connection && !isPlaceholderPassword(connection[1] ?? '')) {
      report(
        lineNumber,
        'connection string',
        'a connection string with a password is written here',
        'remove it; put DATABASE_URL in the environment or the git-ignored .env, todo-deploy creates the Secret from there',
      )
    }
    for (const {pattern, what} of CREDENTIAL_SHAPES) {
      if (findings.length === before && pattern.test(content)) {
        report(
          lineNumber,
          'value',
          `${what} is written here`,
          'remove it, revoke the key, and pass it through the environment or the git-ignored .env',
        )
      }
    }

    const envValue = ENV_VALUE.exec(content)
    if (
      pendingEnv &&
      envValue &&
      (envValue[1]?.length ?? 0) >= pendingEnv.indent &&
      findings.length === before
    ) {
      if (isSecretName(pendingEnv.name, names) && isLiteral(envValue[2] ?? '')) {
        report(
          lineNumber,
          pendingEnv.name,
          `${pendingEnv.name} has a literal value`,
          `read it from the Secret instead: valueFrom.secretKeyRef {name: todo-app-secrets, key: ${pendingEnv.name}}`,
        )
      }
    }
    const envName = ENV_NAME.exec(content)
    // the value belongs to the name only on the very next line
    pendingEnv = envName ? {indent: (envName[1]?.length ?? 0) + 2, name: envName[2] ?? ''} : undefined

    const keyValue = envName ? null : KEY_VALUE.exec(content)
    if (keyValue && findings.length === before && !content.trimStart().startsWith('#')) {
      const [, key = '', value = ''] = keyValue
      if (isSecretName(key, names) && isLiteral(value)) {
        report(
          lineNumber,
          key,
          `${key} has a literal value`,
          `remove the value; ${key} comes from the environment or the git-ignored .env, and todo-deploy puts it in the Secret`,
        )
      }
    }
  })
  return findings
}

/** Whether an environment-variable name holds a credential: one of the model's secret names, or named like one. */
export function isSecretName(key: string, names: ReadonlySet<string>): boolean {
  return names.has(key) || SECRET_LIKE_NAME.test(key)
}
