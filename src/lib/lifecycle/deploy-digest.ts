import {createHash} from 'node:crypto'
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'

/** The bytes the deploy digest covers that live in files: the chart's files and the values files given by path. */
export interface DigestSources {
  /** The chart's files, sorted by path relative to the chart directory. */
  chartFiles: {path: string; bytes: Uint8Array}[]
  /** The user's values files (config `chart.valuesFiles`, then `--values`), in order. */
  valuesFiles: Uint8Array[]
}

/** Reads what the digest covers from disk (the observation half; `deployDigest` is pure). */
export async function readDigestSources(chartDir: string, valuesFiles: string[]): Promise<DigestSources> {
  const files = await listFiles(chartDir)
  return {
    chartFiles: await Promise.all(
      files.map(async (file) => ({path: path.relative(chartDir, file), bytes: await readFile(file)})),
    ),
    valuesFiles: await Promise.all(valuesFiles.map((file) => readFile(file))),
  }
}

/**
 * A digest of everything that decides what Helm would deploy: the chart's files, the values files in
 * order (the generated config values first), the values set on the command line, the image tags and
 * the Secret checksum. It is passed to Helm as a value, so "the deployed release already has this" is
 * one lookup, and a no-change `up` creates no revision (helm #9304).
 */
export function deployDigest(input: {
  sources: DigestSources
  /** The text of the values file generated from the configuration (applied before the user's). */
  configValues: string
  setString: Record<string, string>
  set: string[]
}): string {
  const hash = createHash('sha256')
  for (const file of input.sources.chartFiles) {
    hash.update(`chart:${file.path}\0`)
    hash.update(file.bytes)
    hash.update('\0')
  }
  for (const bytes of [Buffer.from(input.configValues), ...input.sources.valuesFiles]) {
    hash.update(`values\0`)
    hash.update(bytes)
    hash.update('\0')
  }
  for (const key of Object.keys(input.setString).sort())
    hash.update(`set-string:${key}=${input.setString[key]}\0`)
  for (const pair of input.set) hash.update(`set:${pair}\0`)
  return hash.digest('hex').slice(0, 32)
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true})
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
}
