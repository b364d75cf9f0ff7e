# Sourced by the scripts that run node or npm: the project's runtime (scripts/runtime.sh) first on PATH when it
# is installed; the machine's node otherwise. Expects $root.
if [ -x "$root/runtime/node_modules/.bin/node" ]; then
  PATH="$root/runtime/node_modules/.bin:$PATH"
  export PATH
fi
