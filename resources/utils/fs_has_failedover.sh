#!/bin/bash
# fs_has_failedover.sh: has the file system primary failed over to its backup?
#   FALSE  the cluster is HEALTHY, or the primary's drcm still answers
#   TRUE   the primary does not answer but the backup does (the backup holds the file systems)
#   ERROR  neither answers (exit 1)
# Uses `drcm --client --command=cm_stat` and `--command=ping -c5 -nIP` (DRCM_BIN overridable).
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"
load_cluster_info
if [ -z "${PRIMARY_FILESYSTEMS_IP:-}" ] || [ -z "${BACKUP_FILESYSTEMS_IP:-}" ]; then
  echo "ERROR - PRIMARY_FILESYSTEMS_IP and BACKUP_FILESYSTEMS_IP must be set in $CFGFILE" >&2
  echo ERROR
  exit 1
fi
PINGcount="${FS_PING_COUNT:-5}"

node_answers() {
  "$DRCM_BIN" --client --command=ping -c"$PINGcount" -n"$1" >/dev/null 2>&1
}

if cluster_is_healthy; then
  echo FALSE
elif node_answers "$PRIMARY_FILESYSTEMS_IP"; then
  echo FALSE
elif node_answers "$BACKUP_FILESYSTEMS_IP"; then
  echo TRUE
else
  echo ERROR
  exit 1
fi
exit 0
