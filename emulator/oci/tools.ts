// Locating the host tools the OCI emulation depends on, and naming the Debian
// package that provides each one so a skipped test says what to install.
import {access, constants} from 'node:fs/promises'
import path from 'node:path'

/** Debian (bookworm) package providing each tool used under emulator/oci. */
const debianPackageOf: Record<string, string> = {
  buildah: 'buildah',
  skopeo: 'skopeo',
  'docker-registry': 'docker-registry',
  htpasswd: 'apache2-utils',
  busybox: 'busybox-static',
  bash: 'bash',
  jq: 'jq',
  ldd: 'libc-bin',
  unshare: 'util-linux',
  mount: 'mount',
  findmnt: 'util-linux',
  umoci: 'umoci',
  runc: 'runc',
}

const cache = new Map<string, Promise<string | undefined>>()

/** Absolute path of an executable found on PATH (or an sbin dir), or undefined. */
export function which(name: string): Promise<string | undefined> {
  let found = cache.get(name)
  if (!found) {
    found = (async () => {
      // PATH decides (a tool hidden from PATH is missing, as it is for the spawn that would run it);
      // the sbin dirs are added because a user's PATH often lacks them.
      const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin']
      for (const dir of dirs) {
        if (!dir) continue
        const candidate = path.join(dir, name)
        try {
          await access(candidate, constants.X_OK)
          return candidate
        } catch {}
      }
      return undefined
    })()
    cache.set(name, found)
  }
  return found
}

/**
 * Returns undefined when every tool is present, otherwise a message such as
 * `buildah not found (install the Debian package "buildah")` suitable for `this.skip()` reasons.
 */
export async function missingTools(...names: string[]): Promise<string | undefined> {
  const missing: string[] = []
  for (const name of names) if (!(await which(name))) missing.push(name)
  if (missing.length === 0) return undefined
  const pkgs = [...new Set(missing.map((m) => debianPackageOf[m] ?? m))]
  return `${missing.join(', ')} not found (install the Debian package${pkgs.length > 1 ? 's' : ''} ${pkgs.map((p) => `"${p}"`).join(', ')})`
}

/** Skips the running mocha test or hook, printing why (which tool and Debian package is missing). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  console.log(`      (skipped: ${reason})`)
  ctx.skip()
}
