#!/usr/bin/env bash
# Builds the real Kubernetes parts the tests and the local sandbox run: kube-apiserver and etcd
# from this Go module, and helm at a pinned release. A cold build takes minutes, so the result is
# cached: nothing is rebuilt until go.mod, go.sum or this script change.
#
# Usage: bash tests/cluster/build.sh        (needs only Go; MLOPS_CACHE_DIR moves the cache)
set -euo pipefail

HELM_VERSION=v3.19.5

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${module_dir}/../.." && pwd)"
bin_dir="${MLOPS_CACHE_DIR:-${repo_root}/.cache}/bin"
stamp_file="${bin_dir}/.build-stamp"
binaries=(kube-apiserver etcd helm)

mkdir -p "${bin_dir}"

# Two test sessions starting at once must not build into the same files.
if command -v flock >/dev/null; then
    exec 9>"${bin_dir}/.build-lock"
    flock 9
fi

current_stamp() {
    (cd "${module_dir}" && sha256sum go.mod go.sum build.sh)
}

up_to_date() {
    [[ -f "${stamp_file}" && "$(cat "${stamp_file}")" == "$(current_stamp)" ]] || return 1
    for name in "${binaries[@]}"; do
        [[ -x "${bin_dir}/${name}" ]] || return 1
    done
}

if up_to_date; then
    echo "binaries are up to date in ${bin_dir}"
    exit 0
fi

# Builds one binary of this module, timing it. The output goes to a temporary name first, so an
# interrupted build never leaves a half-written binary that looks usable.
go_build() {
    local name="$1"
    shift
    local started=${SECONDS}
    echo "building ${name} ..."
    go build -mod=mod -trimpath -o "${bin_dir}/.${name}.partial" "$@"
    mv -f "${bin_dir}/.${name}.partial" "${bin_dir}/${name}"
    echo "built ${name} in $((SECONDS - started))s"
}

cd "${module_dir}"
kube_version="$(go list -mod=mod -m -f '{{.Version}}' k8s.io/kubernetes)"
kube_minor="$(cut -d. -f2 <<<"${kube_version}")"

# Without these the server reports v0.0.0, which breaks kubeVersion checks in helm charts.
component_version=k8s.io/component-base/version
go_build kube-apiserver \
    -ldflags "-X ${component_version}.gitVersion=${kube_version} -X ${component_version}.gitMajor=1 \
-X ${component_version}.gitMinor=${kube_minor} -X ${component_version}.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver

go_build etcd ./etcd

# helm is built from its own module (its dependency versions, not this module's). Its offline
# rendering (helm template, helm lint) assumes the same Kubernetes minor as the test server.
helm_started=${SECONDS}
echo "building helm ${HELM_VERSION} ..."
GOFLAGS= GOBIN="${bin_dir}" go install -trimpath \
    -ldflags "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${kube_minor} \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${kube_minor}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
echo "built helm in $((SECONDS - helm_started))s"

# Taken after the build: resolving modules may have completed go.sum.
current_stamp >"${stamp_file}"
echo "binaries are ready in ${bin_dir}"
