import pc from 'picocolors'

import type {DoctorCheck, DoctorReport} from '../lib/doctor/doctor.js'

const MARK = {pass: '✔', warn: '!', fail: '✖'} as const

export function renderDoctorCheck(check: DoctorCheck, color: boolean): string {
  const paint = color
    ? {pass: pc.green, warn: pc.yellow, fail: pc.red, dim: pc.dim}
    : {pass: id, warn: id, fail: id, dim: id}
  const lines = [
    `${paint[check.status](MARK[check.status])} ${check.check} ${paint.dim(`[${check.id}]`)}: ${check.detail}`,
  ]
  if (check.status !== 'pass' && check.fix) lines.push(`    fix: ${check.fix}`)
  return lines.join('\n')
}

export function renderDoctorSummary(report: DoctorReport): string {
  const count = (status: DoctorCheck['status']) =>
    report.checks.filter((check) => check.status === status).length
  const failed = report.checks.filter((check) => check.status === 'fail')
  const verdicts = [
    ...(failed.some((check) => !check.id.startsWith('prereq.')) ? ['the configuration breaks a rule'] : []),
    ...(failed.some((check) => check.id.startsWith('prereq.')) ? ['a prerequisite is missing'] : []),
  ]
  const verdict = verdicts.length === 0 ? 'ready to deploy' : verdicts.join(', and ')
  return `\n${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed: ${verdict}`
}

function id(text: string): string {
  return text
}
