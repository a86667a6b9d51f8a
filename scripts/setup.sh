#!/usr/bin/env bash
# scripts/setup.sh: make this checkout ready to run, test and demo knock.
#
# Idempotent and fast when nothing is missing (a few seconds):
#   1. Debian packages (as root, only the missing ones): libpcap-dev for cap, the
#      firewall tools, Debian's knockd/knock for differential tests, sshd for the
#      end-to-end tests and the demo, packet tools for the tests and benchmarks.
#   2. npm ci, only when package-lock.json changed since the last install
#      (ELECTRON_SKIP_BINARY_DOWNLOAD=1: Electron is a devDependency for its types only).
#   3. tsc -b (incremental), so node_modules/.bin/knock and knock-server work.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

APT_PACKAGES=(
  libpcap-dev build-essential python3
  nftables iptables iproute2 iputils-ping conntrack
  knockd openssh-server openssh-client
  hping3 tcpdump tcpreplay netcat-openbsd procps
  tmux chromium
  lintian groff man-db systemd zsh fish   # packaging tests: lintian, man -l/groff -ww, systemd-analyze, zsh/fish
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "run this script as root (or: sudo apt-get install ${missing[*]}); continuing without them"
  else
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the packages' services (sshd, knockd) from starting here. The trap
    # removes it whatever happens (a failed install, Ctrl+C): left behind, it would block
    # every service start on the host.
    # (KNOCK_POLICY_RC moves it, for the test of this step only.)
    policy=${KNOCK_POLICY_RC:-/usr/sbin/policy-rc.d}
    created_policy=0
    remove_policy() { [ "$created_policy" = 1 ] && rm -f "$policy"; created_policy=0; }
    trap remove_policy EXIT
    trap 'remove_policy; exit 130' INT TERM
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy"
      chmod +x "$policy"
      created_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    remove_policy
    trap - EXIT INT TERM
  fi
fi

export ELECTRON_SKIP_BINARY_DOWNLOAD=1
stamp=node_modules/.knock-setup-stamp
want=$( (cat package-lock.json; cat patches/* 2>/dev/null; node --version) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# cap must be the patched build (small capture length: see patches/); rebuild it if not.
if ! (cd server && node -e "process.exit(require('cap').knockPatch ? 0 : 1)") 2>/dev/null; then
  say "rebuilding cap with the knock patch (patch-package + node-gyp)"
  npx patch-package >/dev/null
  npm rebuild cap --loglevel=error
  (cd server && node -e "process.exit(require('cap').knockPatch ? 0 : 1)") || {
    say "error: cap is not the patched build; see patches/cap+0.2.1.patch"; exit 1; }
fi

say "building (tsc -b)"
npx tsc -b
say "ready: node_modules/.bin/knock, node_modules/.bin/knock-server"
