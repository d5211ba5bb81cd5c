import type {Interfaces} from '@oclif/core'

/**
 * The same arguments, none of them read from standard input. oclif reads a missing argument from a
 * piped stdin unless the argument says not to, so `oc get ... | oc mob help` or a command in a
 * `while read` loop would take its input as the argument. oc-mob's own commands set ignoreStdin;
 * this applies it to the commands it takes from oclif's plugins.
 */
export function fromCommandLineOnly<A extends Interfaces.ArgInput>(args: A): A {
  return Object.fromEntries(Object.entries(args).map(([name, arg]) => [name, {...arg, ignoreStdin: true}])) as A
}
