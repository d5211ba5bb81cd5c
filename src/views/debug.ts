/** Lines of `--debug` that are not about one request. */

/** What bin/run.cjs found for the code cache of the bundle (src/boot/compile-cache.ts), as --debug says it. */
export function codeCacheLine(state: string): string {
  const after = "this command's own is written after this run"
  switch (state) {
    case 'hit': {
      return "code cache: this command's own"
    }

    case 'borrowed': {
      return `code cache: borrowed from another run (${after})`
    }

    case 'shipped': {
      return "code cache: this command's, made when oc-mob was built (for this Node)"
    }

    case 'miss': {
      return `code cache: none yet, everything compiled (${after})`
    }

    case 'rejected': {
      return "code cache: this command's own, damaged: not used (rewritten after this run)"
    }

    case 'off': {
      return 'code cache: off (OC_MOB_NO_COMPILE_CACHE, or no cache directory)'
    }

    default: {
      return `code cache: ${state}`
    }
  }
}
