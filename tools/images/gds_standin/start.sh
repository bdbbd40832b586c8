#!/bin/bash
# Stand-in for the Jupyter docker-stacks start.sh used by the darribas/gds images: when started as root it
# drops to the notebook user (NB_UID, default 1000; NB_GID, default 100), then execs its arguments.
set -e
NB_UID=${NB_UID:-1000}
NB_GID=${NB_GID:-100}
if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid="$NB_UID" --regid="$NB_GID" --init-groups env HOME=/home/jovyan "$@"
fi
exec "$@"
