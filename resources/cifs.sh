#!/bin/bash
# drcm resource agent: a CIFS (SMB) mount.
#   cifs.sh //HOST/SHARE TARGET mount|unmount|umount|remount|watch
# Credentials come from ${DRCM_ETC:-/etc/drcm}/.auth/cifs-HOST (mount.cifs format: username=,
# password=, domain=), which must be mode 0600 or stricter; they go to mount as
# -o credentials=FILE, never on the command line. A missing file is created as a 0600 template
# and the action fails until it is filled in. Extra options: CIFS_MOUNT_OPTIONS (e.g.
# uid=0,gid=100,dir_mode=0775,file_mode=0775). Actions as in nfs.sh.
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
HOST=${SOURCE#"${SOURCE%%[!/\\]*}"}
HOST=${HOST%%[/\\]*}
if [ -z "$HOST" ] || [ "$HOST" = "$SOURCE" ]; then
  echo "$PROG: ERROR - CIFS source must look like //host/share, got \"$SOURCE\"" >&2
  fs_usage
fi
CREDENTIALS=${DRCM_ETC:-/etc/drcm}/.auth/cifs-$HOST

check_credentials() {
  local mode
  if [ ! -e "$CREDENTIALS" ]; then
    local dir
    dir=$(dirname "$CREDENTIALS")
    if [ ! -d "$dir" ]; then
      if ! mkdir -p "$dir" || ! chmod 0700 "$dir"; then log "ERROR - Cannot create $dir"; return 1; fi
    fi
    (umask 077 && printf 'username=\npassword=\ndomain=\n' >"$CREDENTIALS") || { log "ERROR - Cannot create $CREDENTIALS"; return 1; }
    log "ERROR - No CIFS credentials for $HOST: created the template $CREDENTIALS (mode 0600); fill in username and password"
    return 1
  fi
  mode=$(stat -c %a "$CREDENTIALS") || return 1
  if [ $((8#$mode & 077)) -ne 0 ]; then
    log "ERROR - $CREDENTIALS is readable by group or others (mode $mode): run chmod 600 $CREDENTIALS"
    return 1
  fi
  if ! grep -q '^username=.' "$CREDENTIALS"; then
    log "ERROR - $CREDENTIALS has no username"
    return 1
  fi
}

fs_mount() {
  check_credentials || return 1
  "$MOUNT" -t cifs -o "credentials=$CREDENTIALS${CIFS_MOUNT_OPTIONS:+,$CIFS_MOUNT_OPTIONS}" "$SOURCE" "$TARGET"
}

# A mount that cannot succeed must not first create the mount point and marker.
case $ACTION in
  mount | remount) check_credentials || exit 1 ;;
esac
fs_run
