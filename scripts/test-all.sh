#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine that has only Node: `npm run test:all`.
#  1. installs the Debian packages of the real programs the tests start, when they are missing
#     (redis-server; prometheus, with promtool; chromium; kubernetes-client, for kubectl), with apt-get,
#     as root or through sudo, saying what it installs;
#  2. installs the npm dependencies from the lockfile (npm ci, which also builds dist/);
#  3. runs every test with LORA_PLACER_REAL_PARTS=required: a test that would be skipped fails instead.
# .ci/run calls this same script. Plain `npm test` is the developers' loop: it skips what is missing and
# lists it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# program -> Debian package
declare -A package_of=(
  [redis-server]=redis-server
  [prometheus]=prometheus
  [promtool]=prometheus
  [chromium]=chromium
  [kubectl]=kubernetes-client
)
need=()
for program in redis-server prometheus promtool chromium kubectl; do
  command -v "$program" >/dev/null || need+=("${package_of[$program]}")
done
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || {
      echo "test:all: needs the Debian packages ${need[*]}; run as root or install sudo" >&2
      exit 1
    }
    sudo=sudo
  fi
  echo "== test:all installs the Debian packages ${need[*]} (apt-get install --no-install-recommends)"
  $sudo apt-get update -qq
  # the tests start their own servers on free loopback ports: a redis or prometheus service the packages
  # may start is not used
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for program in redis-server prometheus promtool chromium kubectl; do
  printf '   %-13s %s\n' "$program" "$(command -v "$program")"
done

echo "== npm ci (dependencies from package-lock.json; builds dist/)"
npm ci --no-audit --no-fund

echo "== every test, the real-part ones included (LORA_PLACER_REAL_PARTS=required: nothing may be skipped)"
LORA_PLACER_REAL_PARTS=required npx vitest run "$@"
