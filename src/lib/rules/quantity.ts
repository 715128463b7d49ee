/**
 * Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1Gi`, `1G`, `1e3`) as plain numbers:
 * cores for CPU, bytes for memory. The same suffix table serves both: `m` is milli.
 */
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
}

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/

/** Parses a quantity; returns undefined when it is not one (the caller reports where). */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined
  const match = QUANTITY.exec(quantity.trim())
  if (!match) return undefined
  const [, digits = '', exponent, suffix = ''] = match
  const value = Number(digits) * (exponent ? 10 ** Number(exponent.slice(1)) : 1) * (SUFFIX[suffix] ?? 1)
  return Number.isFinite(value) ? value : undefined
}

/** 0.1 -> "100m", 1.5 -> "1500m": how a CPU amount reads in a message. */
export function formatCpu(cores: number): string {
  return `${Math.round(cores * 1000)}m`
}

/** Bytes as Mi / Gi for messages. */
export function formatMemory(bytes: number): string {
  return bytes >= 2 ** 30 && bytes % 2 ** 30 === 0
    ? `${bytes / 2 ** 30}Gi`
    : `${Math.round((bytes / 2 ** 20) * 10) / 10}Mi`
}
