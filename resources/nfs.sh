#!/bin/bash
# drcm resource agent: an NFS mount.
#   nfs.sh HOST:/DIR TARGET mount|unmount|umount|remount|watch
# mount mounts SOURCE on TARGET (options from /etc/fstab, or NFS_MOUNT_OPTIONS); unmount
# unmounts (lazily if busy); remount = lazy unmount + mount; watch mounts if unmounted and
# remounts on a stale file handle (stat hanging or reporting "Stale file handle").
# Exit: 0 success, 1 failure, 2 bad arguments.
set -u

PROG=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=mount_common.sh
. "$(dirname "$0")/mount_common.sh"

[ $# -eq 3 ] || fs_usage
SOURCE=$1
TARGET=$2
ACTION=$3
fs_check_args
case $SOURCE in
  ?*:/*) ;;
  *) echo "$PROG: ERROR - NFS source must look like host:/dir, got \"$SOURCE\"" >&2; fs_usage ;;
esac

fs_mount() {
  if [ -n "${NFS_MOUNT_OPTIONS:-}" ]; then
    "$MOUNT" -t nfs -o "$NFS_MOUNT_OPTIONS" "$SOURCE" "$TARGET"
  else
    "$MOUNT" "$SOURCE" "$TARGET"
  fi
}

fs_run
