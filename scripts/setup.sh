#!/usr/bin/env bash
# Installs what Sluice needs to build (and, with --test, to test and benchmark)
# on Debian 12. Idempotent: a second run installs nothing and asks no registry.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for a in "$@"; do [ "$a" = "--test" ] && want_test=1; done

build_pkgs=(g++ cmake ninja-build make pkg-config libboost-dev libboost-system-dev
            nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libnats-dev libcrypt-dev libssl-dev)
test_pkgs=(nats-server golang-go golang-github-nats-io-go-nats-dev libgtest-dev
           libgmock-dev libbenchmark-dev clang-16 libclang-rt-16-dev nodejs npm)

pkgs=("${build_pkgs[@]}")
[ $want_test = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from outside Debian's packages (as on the dev images): accept them.
if [ ${#missing[@]} -gt 0 ]; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs) command -v node >/dev/null || filtered+=("$p") ;;
      npm) command -v npm >/dev/null || filtered+=("$p") ;;
      *) filtered+=("$p") ;;
    esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ $want_test = 1 ] && [ -f tests/js/package-lock.json ]; then
  if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
    echo "setup: npm ci in tests/js"
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
