#!/usr/bin/env bash
# Installs what Ferry's tests need on Debian (real clients and tools the tests drive), then runs every
# test: unit tests (surefire) and multi-process / real-tool tests (failsafe) through `mvn verify`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# command -> Debian package that provides it
declare -A tools=(
  [qemu-img]=qemu-utils   # ovf: checks every VMDK Ferry writes and converts it back to raw
  [xorriso]=xorriso       # ovf: reads the ovf-env ISO image
  [chromium]=chromium     # cluster: the web console test drives a real headless browser
  [chromedriver]=chromium-driver
  [wbemcli]=sblim-wbemcli # cim-provider: the WBEM client the CIM end-to-end tests drive
  [qemu-system-x86_64]=qemu-system-x86 # qemu-driver: boots and live-migrates real (tiny) guests
  [as]=binutils           # qemu-driver: assembles the test guest (a boot sector)
)
missing=()
for cmd in "${!tools[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${tools[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "test.sh: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec mvn -B -ntp verify "$@"
