#!/bin/sh
# vecgate launcher: the image's own Node runs the agent, and the dataplane
# finds the image's libraries (libcrypto) in lib/ first. The image works
# wherever it is mounted or unpacked (/opt/vecgate on a box).
#
# VECGATE_NODE_WRAPPER, when set, is put before node: tests run an image of
# another architecture with "qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu neoverse-n1".
set -eu
root=$(dirname "$(dirname "$(readlink -f "$0")")")
# The agent gives its own children the outer value back (src/cli/launcher-env.ts).
VECGATE_OUTER_LD_LIBRARY_PATH=${LD_LIBRARY_PATH+set:$LD_LIBRARY_PATH}
LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH VECGATE_OUTER_LD_LIBRARY_PATH
# The process's settings (src/cli/process-options.ts); the box's own environment wins.
@PROCESS_ENV@
# shellcheck disable=SC2086 # the wrapper is a command line
exec ${VECGATE_NODE_WRAPPER:-} "$root/node/bin/node" @NODE_FLAGS@ "$root/app/dist/src/cli/main.js" "$@"
