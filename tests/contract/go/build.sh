#!/usr/bin/env bash
# Builds the Go SDK contract program (databricks-go-contract) that
# tests/integration/databricks/test_go_sdk_contract.py runs against the workspace emulator. A cold
# build compiles the Databricks Go SDK (about 90 s on 2 cores), so the result is cached:
# nothing is rebuilt until a Go source, go.mod, go.sum or this script change.
#
# Usage: bash tests/contract/go/build.sh    (needs only Go; MLOPS_CACHE_DIR moves the cache)
set -euo pipefail

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${module_dir}/../../.." && pwd)"
bin_dir="${MLOPS_CACHE_DIR:-${repo_root}/.cache}/bin"
name=databricks-go-contract
stamp_file="${bin_dir}/.${name}.stamp"

mkdir -p "${bin_dir}"

# Two test sessions starting at once must not build into the same files. The lock is this
# program's own, so it never waits behind a cold build of tests/cluster/build.sh.
if command -v flock >/dev/null; then
    exec 9>"${bin_dir}/.${name}.lock"
    flock 9
fi

current_stamp() {
    (cd "${module_dir}" && sha256sum go.mod go.sum build.sh ./*.go)
}

if [[ -f "${stamp_file}" && -x "${bin_dir}/${name}" && "$(cat "${stamp_file}")" == "$(current_stamp)" ]]; then
    echo "${name} is up to date in ${bin_dir}"
    exit 0
fi

cd "${module_dir}"
started=${SECONDS}
echo "building ${name} ..."
# Checked here, where the sources change, since make lint runs Python tools only. (go vet is not
# run here: it analyses every dependency and would double a cold build.)
unformatted="$(gofmt -l .)"
if [[ -n "${unformatted}" ]]; then
    echo "gofmt would change: ${unformatted}" >&2
    exit 1
fi
# Written under a temporary name first, so an interrupted build never leaves a binary that looks usable.
go build -trimpath -buildvcs=false -o "${bin_dir}/.${name}.partial" .
mv -f "${bin_dir}/.${name}.partial" "${bin_dir}/${name}"
current_stamp >"${stamp_file}"
echo "built ${name} in $((SECONDS - started))s"
