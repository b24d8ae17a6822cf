#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container image of docker/Dockerfile with podman, on a machine that
# reaches no container registry (only Debian's packages):
#
#   scripts/container.sh build [IMAGE]     build it (default name: omsplunkgo)
#   scripts/container.sh run ARGS...       podman run ARGS, with the settings
#                                          this machine needs
#   scripts/container.sh podman ARGS...    any other podman command, likewise
#
# build makes:
#   - two base images made from Debian's packages with mmdebstrap (once
#     per machine; podman keeps them): a Debian 12 with gcc and make plus
#     this machine's Go toolchain, and a Debian 12 with rsyslog;
#   - the image itself (Go modules from this machine's module cache,
#     mounted read-only into the build).
# and removes the dangling images a build leaves (its build stage).
# It prints the image name. The workarounds this kind of machine needs
# are applied only where the problem is there (a private containers.conf,
# which run and podman use too).
#
# Where a registry is reachable, plain `podman build --format docker -f
# docker/Dockerfile -t omsplunkgo .` (or docker build) works as well.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-build}
[ $# -eq 0 ] || shift
build_base=localhost/omsplunkgo-build-base:bookworm
runtime_base=localhost/omsplunkgo-runtime-base:bookworm-debian-cas

scripts/apt.sh install container podman runc mmdebstrap uidmap slirp4netns fuse-overlayfs

# Private podman settings, only for the quirks present here.
conf=$PWD/.cache/container/containers.conf
mkdir -p "$(dirname "$conf")"
{
	echo "[containers]"
	# Without CAP_SYS_RESOURCE podman cannot raise the default ulimits.
	if ! (ulimit -Hn 1048576) 2>/dev/null; then
		echo 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]'
	fi
	echo "[engine]"
	# crun 1.8 refuses the hybrid cgroup layout; Debian's runc copes.
	if [ -d /sys/fs/cgroup/unified ] || ! command -v crun >/dev/null; then
		echo 'runtime = "runc"'
	fi
} >"$conf"
export CONTAINERS_CONF=$conf

case $cmd in
build) ;;
run) exec podman run "$@" ;;
podman) exec podman "$@" ;;
*)
	echo "container.sh: unknown command $cmd (build, run, podman)" >&2
	exit 2
	;;
esac
image=${1:-omsplunkgo}
PATH="$(scripts/setup-go.sh):$PATH"

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
# Files a build step may need: the host's extra CA certificates (a TLS
# intercepting proxy), none when there are none. Only the build image
# takes them: the runtime image trusts Debian's CA bundle alone, and a
# user's CAs come in at run time (HEC_TLS_CACERT).
cas=()
for c in /usr/local/share/ca-certificates/*.crt; do [ -e "$c" ] && cas+=("$c"); done

base_image() { # name, packages, extra mmdebstrap args...
	local name=$1 pkgs=$2
	shift 2
	if podman image exists "$name"; then
		return
	fi
	echo "container: building $name from Debian's packages (mmdebstrap)" >&2
	local tar
	tar=$(mktemp --suffix=.tar)
	mmdebstrap --quiet --variant=apt --include="$pkgs" "$@" bookworm "$tar" "$mirror" >&2
	podman import --quiet --change 'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["/bin/bash"]' "$tar" "$name" >/dev/null
	rm -f "$tar"
}

hooks=()
for c in "${cas[@]}"; do
	hooks+=(--customize-hook="copy-in $c /usr/local/share/ca-certificates/" --customize-hook='chroot "$1" update-ca-certificates')
done
goroot=$(go env GOROOT)
base_image "$build_base" gcc,make,libc6-dev,ca-certificates,git \
	--customize-hook='mkdir -p "$1/usr/local/go"' --customize-hook="sync-in $goroot /usr/local/go" "${hooks[@]}"
base_image "$runtime_base" rsyslog,ca-certificates

echo "container: building $image (docker/Dockerfile)" >&2
modcache=$(go env GOMODCACHE)
# Docker format: OCI images drop HEALTHCHECK.
podman build --quiet --format docker -f docker/Dockerfile -t "$image" \
	--build-arg BUILD_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
	-v "$modcache:/root/go/pkg/mod:ro" --build-arg GOFLAGS=-mod=mod --build-arg GOPROXY=off --build-arg GOTOOLCHAIN=local . >&2
# The build stage stays behind untagged (hundreds of MB): remove it.
podman image prune --force >/dev/null
echo "$image"
