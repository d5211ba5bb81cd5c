#!/bin/bash
# Container set-up for the oc-mob cluster emulator's host runner (runner.ts).
#
# Runs as PID 1 of fresh mount and PID namespaces:
#   unshare --mount --propagation private --pid --fork --kill-child --mount-proc -- \
#       bash ns-exec.sh PLAN -- COMMAND [ARG...]
# and makes the pod's volumes appear at their mountPaths before exec'ing the
# container command with exactly the container's environment.
#
# PLAN is a tab-separated file:
#   scratch DIR              an empty dir (inside the runner's temp dir) for a private tmpfs
#   env     FILE             NUL-separated NAME=VALUE list: the whole container environment
#   workdir DIR              working directory of the command
#   keep    PATH             host path that must stay the real one (written through),
#                            even below a volume mounted over one of its parents
#                            (an emptyDir at /tmp must not hide buildah's storage)
#   bind    SRC DST ro|rw    host dir SRC appears at DST; sorted parents first
#
# The host file system is never modified. A mountPath whose parent does not
# exist (/tmp/done, /home/build, /run/secrets/...) is created on an overlay
# whose upper layer lives in the private tmpfs: the overlay is mounted on the
# deepest existing ancestor (the "shadowed" dir), which keeps showing the
# host's contents; submounts of that dir and the `keep` paths are bound back on
# top so writes to them reach the host (buildah's storage, for instance).
#
# util-linux mount is always called with -n (no utab under /run/mount) and -c
# (no canonicalisation): paths under
# /proc/self/fd/N must reach the kernel as they are, because the string a
# magic link reads as may name something else once a dir is shadowed.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/null

die() {
	echo "oc-mob host runner: $*" >&2
	exit 125
}

[ $# -ge 3 ] && [ "$2" = -- ] || die "usage: ns-exec.sh PLAN -- COMMAND [ARG...]"
plan_file=$1
shift 2

scratch= envfile= workdir=/
keeps=() binds=()
while IFS=$'\t' read -r kind a b c; do
	case $kind in
	scratch) scratch=$a ;;
	env) envfile=$a ;;
	workdir) workdir=$a ;;
	keep) keeps+=("$a") ;;
	bind) binds+=("$a"$'\t'"$b"$'\t'"$c") ;;
	'' | '#'*) ;;
	*) die "bad plan line: $kind" ;;
	esac
done <"$plan_file"
[ -n "$scratch" ] && [ -d "$scratch" ] || die "plan has no scratch dir"
[ -n "$envfile" ] && [ -f "$envfile" ] || die "plan has no env file"
container_env=()
mapfile -d '' container_env <"$envfile"

mount -n -c -t tmpfs -o mode=0700 oc-mob-runner "$scratch" || die "cannot mount a tmpfs on $scratch"
exec {sfd}<"$scratch"
S=/proc/self/fd/$sfd

# Stage every volume first: once an ancestor of its host dir is shadowed the
# path would lead into the overlay instead.
i=0
for b in "${binds[@]}"; do
	IFS=$'\t' read -r src dst mode <<<"$b"
	[ -d "$src" ] || die "volume source $src is not a directory"
	mkdir "$S/s$i"
	mount -n -c --rbind "$src" "$S/s$i"
	i=$((i + 1))
done

# Stage the kept host paths too, to bind them back wherever something hides them.
keep_src=()
j=0
for k in "${keeps[@]}"; do
	keep_src+=("")
	if [ -d "$k" ]; then
		mkdir "$S/k$j"
		mount -n -c --rbind "$k" "$S/k$j"
		keep_src[j]=$S/k$j
	fi
	j=$((j + 1))
done

ours=()     # mount points made here: new dirs below them are private already
nshadow=0

under() { # under PATH DIR: PATH is DIR or below it
	[ "$1" = "$2" ] || [ "${1#"$2"/}" != "$1" ] || [ "$2" = / ]
}

is_ours() {
	local o
	for o in "${ours[@]}"; do under "$1" "$o" && return 0; done
	return 1
}

# Host mount points strictly below $1, shallowest first.
submounts() {
	awk -v a="$1" '{ p = $5; if (index(p, a "/") == 1) print length(p) "\t" p }' /proc/self/mountinfo | sort -n -u | cut -f2-
}

shadow() {
	local a=$1 n=$nshadow p q restore=() done_=()
	nshadow=$((nshadow + 1))
	[ "$a" != / ] || die "cannot create a mount point directly below /"
	while IFS= read -r p; do restore+=("$p"); done < <(submounts "$a")
	mkdir "$S/o$n" "$S/u$n" "$S/w$n"
	mount -n -c --rbind "$a" "$S/o$n"
	mount -n -c -t overlay oc-mob-shadow -o "lowerdir=$S/o$n,upperdir=$S/u$n,workdir=$S/w$n" "$a" ||
		die "cannot shadow $a with an overlay"
	ours+=("$a")
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		under "$p" "$scratch" && continue
		for q in "${done_[@]}"; do under "$p" "$q" && continue 2; done
		[ -e "$S/o$n/${p#"$a"/}" ] || continue
		mount -n -c --rbind "$S/o$n/${p#"$a"/}" "$p"
		done_+=("$p")
	done < <(printf '%s\n' "${restore[@]}" | awk 'NF { print length($0) "\t" $0 }' | sort -n -u | cut -f2-)
	restore_keeps "$a"
}

# Binds the kept host paths strictly below $1 back on top of whatever now covers them.
restore_keeps() {
	local j
	for j in "${!keeps[@]}"; do
		[ -n "${keep_src[j]}" ] || continue
		if [ "${keeps[j]}" != "$1" ] && under "${keeps[j]}" "$1"; then
			ensure_dir "${keeps[j]}"
			mount -n -c --rbind "${keep_src[j]}" "${keeps[j]}"
		fi
	done
}

# Makes dir $1 exist in this namespace without touching the host.
ensure_dir() {
	local d=$1 a
	if [ -d "$d" ]; then return 0; fi
	if [ -e "$d" ]; then die "$d exists and is not a directory"; fi
	a=$d
	while [ ! -e "$a" ]; do a=$(dirname "$a"); done
	a=$(realpath "$a")
	[ -d "$a" ] || die "cannot create $d: $a is not a directory"
	is_ours "$a" || shadow "$a"
	mkdir -p "$d"
}

i=0
for b in "${binds[@]}"; do
	IFS=$'\t' read -r src dst mode <<<"$b"
	case $dst in /*) ;; *) die "mountPath $dst is not absolute" ;; esac
	ensure_dir "$dst"
	mount -n -c --rbind "$S/s$i" "$dst"
	if [ "$mode" = ro ]; then mount -n -c -o remount,bind,ro "$dst"; fi
	ours+=("$(realpath "$dst")")
	restore_keeps "$(realpath "$dst")"
	i=$((i + 1))
done

ensure_dir "$workdir"
cd "$workdir"
exec {sfd}<&-
exec /usr/bin/env -i "${container_env[@]}" "$@"
