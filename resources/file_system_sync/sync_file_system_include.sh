#!/bin/bash
# Two-way file replication between the file system primary and its backup (sourced by sync_*.sh,
# which set SERVICENAME). Run from the backup user's crontab on both nodes: every few minutes on
# the primary, every minute on the backup. See operations.md, "Two-way file replication".
#
# Normal state: the primary pushes each directory of its sync list to the backup.
# Failed over (fs_has_failedover.sh says TRUE): nothing is synced; the backup, now serving, stamps
# the failback flag FLAGdir/<SERVICENAME>_failback_sync_flag (and copies it to the primary when
# that answers), so that its changes are not overwritten later.
# Failback: while the flag is fresh (younger than MAXHOURS) the primary does not push; the backup
# syncs its data back to the primary (deletions included, but keeping what the primary changed
# after the flag's stamp, see below) and, once the cluster is HEALTHY, removes the flag on both
# nodes. From then on the primary pushes again.
#
# Variables (1.x names and defaults unless said): LOGdir=/var/log/drcm, VARdir=/var/run/drcm (locks;
# created when missing, /var/run is a tmpfs: a non-root BACKUP_USER needs it writable or another VARdir),
# FLAGdir=/var/lib/drcm (new: 1.x kept the flag in /var/run, lost at reboot), RYSNC=rsync, SSH=ssh,
# SSHargs (new: ssh options, e.g. "-i KEY -o BatchMode=yes"), SCP=scp, PING=ping, PINGcount=15,
# RYSNCargs, RYSNCcopyargs, MINold=45, MAXHOURS=1, CLUSTER_BACKUP_USER (overrides BACKUP_USER).
set -u

if [ -z "${SERVICENAME:-}" ]; then
  echo "ERROR - SERVICENAME is not set: run one of the sync_*.sh wrappers" >&2
  exit 1
fi
FSSYNC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UTILSdir="${UTILSdir:-$(cd "$FSSYNC_DIR/../utils" && pwd)}"
# shellcheck source=../utils/drcm_common.sh
. "$UTILSdir/drcm_common.sh"
load_cluster_info

LOGdir="${LOGdir:-/var/log/drcm}"
VARdir="${VARdir:-/var/run/drcm}"
FLAGdir="${FLAGdir:-/var/lib/drcm}"
SCP="${SCP:-scp}"
PING="${PING:-ping}"
PINGcount="${PINGcount:-15}"
MINold="${MINold:-45}"
MAXHOURS="${MAXHOURS:-1}"
BACKUP_USER="${CLUSTER_BACKUP_USER:-${BACKUP_USER:-}}"

mkdir -p "$LOGdir" "$VARdir" 2>/dev/null
LOGfile="$LOGdir/${DRCM_HOST}-${SERVICENAME}-filesystem-sync.log"
: >"$LOGfile" 2>/dev/null || LOGfile=/dev/null
LOCKfile="$VARdir/${SERVICENAME}_file_system_sync.lck"
FLAGfile="$FLAGdir/${SERVICENAME}_failback_sync_flag"
LISTfile="$DRCMdir/my_cluster_conf/${SERVICENAME}_sync_list.sh"
HOSTLISTfile="$DRCMdir/my_cluster_conf/${DRCM_HOST}_${SERVICENAME}_sync_list.sh"

sync_say() {
  printf '%s\n' "$*"
  printf '%s %s\n' "$(date '+%b %d %H:%M:%S')" "$*" >>"$LOGfile"
}

for v in PRIMARY_FILESYSTEMS_IP PRIMARY_FILESYSTEMS_ETH BACKUP_FILESYSTEMS_IP BACKUP_FILESYSTEMS_ETH BACKUP_USER; do
  if [ -z "${!v:-}" ]; then
    sync_say "ERROR - $v is not set in $CFGFILE"
    exit 1
  fi
done
if [ "$(id -un)" != "$BACKUP_USER" ]; then
  sync_say "ERROR - You must be $BACKUP_USER to run this script (you are $(id -un))"
  exit 1
fi

# shellcheck source=../utils/process_lock.sh
. "$UTILSdir/process_lock.sh"
LockFileCheck "$MINold"

if [ ! -f "$LISTfile" ]; then
  if mkdir -p "$(dirname "$LISTfile")" 2>/dev/null && cat >"$LISTfile" 2>/dev/null <<TEMPLATE; then
#!/bin/bash
# Directories replicated by sync_${SERVICENAME}.sh, one per line:
#   RsyncMirror /dir    exact copy (files deleted here are deleted on the other node)
#   RsyncCopy /dir      copy (files deleted here are kept on the other node)
# Create each directory on both nodes, writable by the backup user ($BACKUP_USER).
# A file ${DRCM_HOST}_${SERVICENAME}_sync_list.sh beside this one adds entries for one host.
TEMPLATE
    sync_say "Created sync list template $LISTfile: add RsyncMirror/RsyncCopy lines to it"
  else
    sync_say "ERROR - No sync list $LISTfile and cannot create it"
  fi
  exit 0
fi

if [ "$("$UTILSdir/is_primary_fs.sh")" = "TRUE" ]; then
  ROLE=primary
  PEER="${BACKUP_FILESYSTEMS_RSYNC_IP:-$BACKUP_FILESYSTEMS_IP}"
elif [ "$("$UTILSdir/is_backup_fs.sh")" = "TRUE" ]; then
  ROLE=backup
  PEER="${PRIMARY_FILESYSTEMS_RSYNC_IP:-$PRIMARY_FILESYSTEMS_IP}"
else
  sync_say "ERROR - This node has neither $PRIMARY_FILESYSTEMS_IP on $PRIMARY_FILESYSTEMS_ETH nor $BACKUP_FILESYSTEMS_IP on $BACKUP_FILESYSTEMS_ETH"
  exit 1
fi
SYNC_HOST="$PEER"
SYNC_PREFIX=""
# shellcheck source=sync_list_functions.sh
. "$FSSYNC_DIR/sync_list_functions.sh"

now=$(date +%s)
maxage=$((MAXHOURS * 3600))

# flag_age TEXT: seconds since the epoch in the flag text, or nothing when the text is not a flag.
flag_age() {
  local stamp="${1%% *}"
  case "$stamp" in '' | *[!0-9]*) return ;; esac
  echo $((now - stamp))
}

remove_flags() {
  rm -f "$FLAGfile"
  sync_remote "rm -f $(printf '%q' "$FLAGfile")" >>"$LOGfile" 2>&1 ||
    sync_say "WARNING - Cannot remove the failback sync flag on $PEER"
}

run_sync_list() {
  # shellcheck disable=SC1090
  . "$LISTfile"
  if [ -f "$HOSTLISTfile" ]; then
    # shellcheck disable=SC1090
    . "$HOSTLISTfile"
  fi
}

peer_answers_ping() {
  "$PING" -c "$PINGcount" -w $((PINGcount + 5)) "$PEER" >/dev/null 2>&1
}

hasfailedover=$("$UTILSdir/fs_has_failedover.sh")
sync_say "Sync $SERVICENAME on the $ROLE node, failed over: ${hasfailedover:-ERROR}"

if [ "$hasfailedover" != "TRUE" ] && [ "$hasfailedover" != "FALSE" ]; then
  sync_say "Both cluster nodes are down"
  exit 1
fi

if [ "$hasfailedover" = "TRUE" ]; then
  if [ "$ROLE" = primary ]; then
    sync_say "The cluster has failed over to the backup node: the primary does not sync"
    exit 0
  fi
  if ! { mkdir -p "$FLAGdir" && echo "$now" >"$FLAGfile"; }; then
    sync_say "ERROR - Cannot write the failback sync flag $FLAGfile"
    exit 1
  fi
  sync_say "The cluster has failed over: failback sync flag $FLAGfile set"
  if peer_answers_ping; then
    local_opts=()
    read -r -a local_opts <<<"$SSHargs"
    if sync_remote "mkdir -p $(printf '%q' "$FLAGdir")" >>"$LOGfile" 2>&1 &&
      "$SCP" "${local_opts[@]}" "$FLAGfile" "$PEER:$FLAGfile" >>"$LOGfile" 2>&1; then
      sync_say "Failback sync flag copied to the primary node $PEER"
    fi
  fi
  exit 0
fi

# Normal state (the primary's drcm answers).
if [ "$ROLE" = primary ]; then
  if [ -f "$FLAGfile" ]; then
    age=$(flag_age "$(cat "$FLAGfile")")
    if [ -n "$age" ] && [ "$age" -lt "$maxage" ]; then
      sync_say "Failback sync flag is $age seconds old: waiting for the backup node to sync its changes back"
      exit 0
    fi
    sync_say "Ignoring the stale failback sync flag $FLAGfile"
    rm -f "$FLAGfile"
  fi
  # The backup holds the authoritative flag: a primary that was down during the whole failover
  # never received its copy, and pushing now would overwrite the backup's changes.
  remote=$(sync_remote "cat $(printf '%q' "$FLAGfile") 2>/dev/null || true" 2>>"$LOGfile")
  rc=$?
  if [ "$rc" -ne 0 ]; then
    sync_say "ERROR - Cannot reach the backup node $PEER over ssh (exit $rc)"
    exit 1
  fi
  age=$(flag_age "$remote")
  if [ -n "$age" ] && [ "$age" -lt "$maxage" ]; then
    sync_say "The backup node has a failback sync flag $age seconds old: waiting for it to sync its changes back"
    exit 0
  fi
  run_sync_list
  sync_say "Sync of $SERVICENAME to $PEER done with $SYNC_ERRORS errors"
  [ "$SYNC_ERRORS" -eq 0 ] || exit 1
  exit 0
fi

# Backup node: sync to the primary only after a failover.
sync_say "Checking to see if failback sync flag exists"
if [ ! -f "$FLAGfile" ]; then
  sync_say "We have no sync flag for $SERVICENAME files"
  sync_say "No file sync to primary cluster node will be performed"
  exit 1
fi
flag=$(cat "$FLAGfile")
age=$(flag_age "$flag")
if [ -z "$age" ] || [ "$age" -ge "$maxage" ]; then
  sync_say "WARNING - The failback sync flag is older than $MAXHOURS hours or unreadable: removing it, no sync back"
  remove_flags
  exit 0
fi
if ! peer_answers_ping; then
  sync_say "ERROR - The primary node $PEER does not answer ping: no failback sync"
  exit 1
fi
# Failback sync. The flag's stamp is this node's last failed-over run: until then it served the
# file systems, so its tree is the truth for everything older; anything the primary changed after
# that stamp was written by the returning primary and is kept. Every run while the flag is fresh
# copies with --update (never overwrites a file that is newer on the primary) and, for RsyncMirror
# entries, deletes on the primary what was deleted here except what the primary changed since the
# stamp (checked there, at deletion). So it does not matter whether this node first sees the
# primary before or after the cluster is HEALTHY again: deletions made here during the failover
# stay deleted, and new files of the returning primary stay. Once HEALTHY, the flag is removed
# after a successful run and the primary pushes again.
healthy=0
cluster_is_healthy && healthy=1
SYNC_FAILBACK_SINCE="${flag%% *}"
sync_say "Failback sync of $SERVICENAME to the primary node $PEER (keeping what the primary changed since $(date -d "@$SYNC_FAILBACK_SINCE" '+%b %d %H:%M:%S'))"
run_sync_list
if [ "$SYNC_ERRORS" -ne 0 ]; then
  sync_say "Failback sync had $SYNC_ERRORS errors: flag kept, retrying next run"
  exit 1
fi
if [ "$healthy" = "1" ]; then
  remove_flags
  sync_say "Failback sync of $SERVICENAME done: flag removed, the primary resumes syncing"
else
  # The flag keeps its stamp (it still ages out after MAXHOURS): the next runs sync again.
  sync_say "Failback not complete yet (cluster not HEALTHY): flag kept, syncing again next run"
fi
exit 0
