#!/bin/bash
# watch_service.sh SERVICE: for cron; runs `resources/service.sh SERVICE watch` (restarts a dead
# service) unless another watch of the same service is still running.
# 1.x put $$ in the lock name, so the lock never excluded anything; the lock is now
# $VARdir/watch_service_<SERVICE>.lck, held with flock (process_lock.sh).
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"
SERVICE="${1:-}"
if [ -z "$SERVICE" ]; then
  echo "Usage: $(basename "$0") SERVICE" >&2
  exit 2
fi
VARdir="${VARdir:-/var/run/drcm}"
RESOURCESdir="${RESOURCESdir:-$DRCMdir/resources}"
LOCKfile="$VARdir/watch_service_${SERVICE//\//_}.lck"
# shellcheck source=process_lock.sh
. "$UTILSdir/process_lock.sh"
LockFileCheck "${MINold:-60}"
"$RESOURCESdir/service.sh" "$SERVICE" watch
rc=$?
RemoveLockFile
exit "$rc"
