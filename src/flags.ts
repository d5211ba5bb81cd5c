/**
 * The flags several commands share, defined once: --timeout (a duration such as 30m), --dry-run,
 * --yes and --wait. Each command gives the description that says what the flag means for it, and
 * how the flag relates to its other flags (--timeout only with --wait, --dry-run not with --local).
 */
import {Flags} from '@oclif/core'
import {parseDuration} from './lib/duration.js'

/** --timeout DURATION: how long to wait before giving up (the cluster goes on). */
export const timeoutFlag = (description: string, opts: {dependsOn?: string[]} = {}) =>
  Flags.string({description, ...(opts.dependsOn ? {dependsOn: opts.dependsOn} : {})})

/** The milliseconds of a --timeout (or --stall-timeout) value; undefined when it was not given. */
export function timeoutMs(text: string | undefined): number | undefined {
  return text ? parseDuration(text) : undefined
}

/** --dry-run: check and show, change nothing. */
export const dryRunFlag = (description: string, opts: {exclusive?: string[]} = {}) =>
  Flags.boolean({description, ...(opts.exclusive ? {exclusive: opts.exclusive} : {})})

/** -y, --yes: skip the confirmation (without a terminal, the only way to go ahead). */
export const yesFlag = (description = 'Do not ask for confirmation.') => Flags.boolean({char: 'y', description})

/** -w, --wait: follow what was started to its end (`short: false` for a command without -w). */
export const waitFlag = (description: string, opts: {short?: boolean} = {}) =>
  Flags.boolean({description, ...(opts.short === false ? {} : {char: 'w' as const})})

/** --stall-timeout: the grace a finished image-build has for its digest ConfigMap (build, enable). */
export const stallTimeoutFlag = () =>
  Flags.string({
    default: '60s',
    description: 'How long image-build may be finished without its digest ConfigMap appearing before the build counts as stuck.',
  })

/** --registry-ca FILE: CA certificates to trust for registries (a registry with a private CA). */
export const registryCaFlag = () =>
  Flags.string({description: "PEM file of CA certificates to trust for registries, besides Node's built-in list."})
