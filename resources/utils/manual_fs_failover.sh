#!/bin/bash
# manual_fs_failover.sh: hand the file systems of the primary to the backup (run on the primary,
# as BACKUP_USER). It runs every sync_*.sh once so the backup has the latest data, then stops drcm
# here, which makes the backup take over. Fail back by starting drcm again.
# Variables: PRIMARY_FILESYSTEMS_IP, BACKUP_FILESYSTEMS_IP, BACKUP_USER (my_cluster_info.sh);
# FSSYNCdir (default $DRCMdir/file_system_sync); DRCM_SERVICE (default drcm); DRCM_STOP_CMD (the
# whole stop command, default: systemctl stop, or service ... stop; through sudo when not root).
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"
load_cluster_info
BACKUP_USER="${CLUSTER_BACKUP_USER:-${BACKUP_USER:-}}"
for v in PRIMARY_FILESYSTEMS_IP BACKUP_FILESYSTEMS_IP BACKUP_USER; do
  if [ -z "${!v:-}" ]; then
    echo "ERROR - $v is not set in $CFGFILE" >&2
    exit 1
  fi
done
FSSYNCdir="${FSSYNCdir:-$DRCMdir/file_system_sync}"
DRCM_SERVICE="${DRCM_SERVICE:-drcm}"

if [ "$("$UTILSdir/is_primary_fs.sh")" != "TRUE" ]; then
  echo "INFO - This is not the primary file system node ($PRIMARY_FILESYSTEMS_IP): nothing to fail over from here"
  exit 0
fi
state=$("$UTILSdir/fs_has_failedover.sh")
if [ "$state" != "FALSE" ]; then
  echo "ERROR - The cluster is not in its normal state (fs_has_failedover.sh: $state): no manual failover"
  exit 1
fi
me=$(id -un)
if [ "$me" != "$BACKUP_USER" ]; then
  echo "ERROR - You must be $BACKUP_USER to run this script (you are $me)"
  exit 1
fi

echo "This will sync all file systems to the backup node $BACKUP_FILESYSTEMS_IP and stop drcm on this node."
printf 'Are you sure you want to continue (yes/no)> '
read -r answer
if [ "${answer:-}" != "yes" ]; then
  echo "Manual failover cancelled"
  exit 1
fi

for s in mysql pgsql testfs cifs nfs www other; do
  echo "Running sync_$s.sh"
  "$FSSYNCdir/sync_$s.sh" || echo "WARNING - sync_$s.sh exited $?"
done

echo "Stopping drcm: the backup node takes over"
if [ -n "${DRCM_STOP_CMD:-}" ]; then
  sh -c "$DRCM_STOP_CMD"
else
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    "${sudo[@]}" systemctl stop "$DRCM_SERVICE"
  else
    "${sudo[@]}" service "$DRCM_SERVICE" stop
  fi
fi
echo "To fail back, start drcm on this node again"
exit 0
