#!/bin/bash
# backup_to_shared_storage.sh: copy directories to a backup storage server. Meant for a DRCM-managed
# crontab resource, so it runs on whichever node holds the resources.
# Needs CLUSTER_NAME, BACKUP_STORAGE_SERVER, BACKUP_STORAGE_LOCATION and BACKUP_USER (my_cluster_info.sh).
# List: my_cluster_conf/<CLUSTER_NAME>_shared_storage_sync_list.sh (plus <host>_<CLUSTER_NAME>_...;
# a template is written when missing) with the lines:
#   RsyncMirror DIR        -> SERVER:LOCATION/DIR (with --delete)
#   RsyncCopy DIR          -> the same, without --delete
#   RsyncRotate DIR [30]   -> SERVER:LOCATION/Rotating/<weekday 0-6 | day 01-31>/DIR
# Log $LOGdir/<CLUSTER_NAME>-shared-storage-backup.log, lock $VARdir/backup_to_shared_storage.lck.
# Exit: 0, or 1 when an entry failed.
set -u
FSSYNC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UTILSdir="${UTILSdir:-$(cd "$FSSYNC_DIR/../utils" && pwd)}"
# shellcheck source=../utils/drcm_common.sh
. "$UTILSdir/drcm_common.sh"
load_cluster_info
LOGdir="${LOGdir:-/var/log/drcm}"
VARdir="${VARdir:-/var/run/drcm}"
MINold="${MINold:-45}"
BACKUP_USER="${CLUSTER_BACKUP_USER:-${BACKUP_USER:-}}"

for v in CLUSTER_NAME BACKUP_STORAGE_SERVER BACKUP_STORAGE_LOCATION BACKUP_USER; do
  if [ -z "${!v:-}" ]; then
    echo "ERROR - $v is not set in $CFGFILE" >&2
    exit 1
  fi
done
mkdir -p "$LOGdir" "$VARdir" 2>/dev/null
LOGfile="$LOGdir/${CLUSTER_NAME}-shared-storage-backup.log"
: >"$LOGfile" 2>/dev/null || LOGfile=/dev/null
sync_say() {
  printf '%s\n' "$*"
  printf '%s %s\n' "$(date '+%b %d %H:%M:%S')" "$*" >>"$LOGfile"
}
if [ "$(id -un)" != "$BACKUP_USER" ]; then
  sync_say "ERROR - You must be $BACKUP_USER to run this script (you are $(id -un))"
  exit 1
fi

LOCKfile="$VARdir/backup_to_shared_storage.lck"
# shellcheck source=../utils/process_lock.sh
. "$UTILSdir/process_lock.sh"
LockFileCheck "$MINold"

LISTfile="$DRCMdir/my_cluster_conf/${CLUSTER_NAME}_shared_storage_sync_list.sh"
HOSTLISTfile="$DRCMdir/my_cluster_conf/${DRCM_HOST}_${CLUSTER_NAME}_shared_storage_sync_list.sh"
if [ ! -f "$LISTfile" ]; then
  if mkdir -p "$(dirname "$LISTfile")" 2>/dev/null && cat >"$LISTfile" 2>/dev/null <<TEMPLATE; then
#!/bin/bash
# Directories copied to $BACKUP_STORAGE_SERVER:$BACKUP_STORAGE_LOCATION by backup_to_shared_storage.sh:
#   RsyncMirror /dir        exact copy
#   RsyncCopy /dir          copy, files deleted here are kept there
#   RsyncRotate /dir [30]   one copy per weekday (or per day of the month with 30)
TEMPLATE
    sync_say "Created list template $LISTfile: add RsyncMirror/RsyncCopy/RsyncRotate lines to it"
  else
    sync_say "ERROR - No list $LISTfile and cannot create it"
  fi
  exit 0
fi

SYNC_HOST="$BACKUP_STORAGE_SERVER"
SYNC_PREFIX="${BACKUP_STORAGE_LOCATION%/}"
SYNC_ROTATE=1
# shellcheck source=sync_list_functions.sh
. "$FSSYNC_DIR/sync_list_functions.sh"
# shellcheck disable=SC1090
. "$LISTfile"
if [ -f "$HOSTLISTfile" ]; then
  # shellcheck disable=SC1090
  . "$HOSTLISTfile"
fi
sync_say "Backup to $BACKUP_STORAGE_SERVER:$BACKUP_STORAGE_LOCATION done with $SYNC_ERRORS errors"
[ "$SYNC_ERRORS" -eq 0 ] || exit 1
exit 0
