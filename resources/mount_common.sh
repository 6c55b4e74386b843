#!/bin/bash
# Shared logic of nfs.sh and cifs.sh (sourced, not an agent). The sourcing script sets PROG,
# SOURCE, TARGET, ACTION and defines fs_mount (the mount command of its file-system type).
# Test hooks: DRCM_MOUNTS_FILE (default /proc/mounts), MOUNT and UMOUNT (default mount/umount
# from PATH), DRCM_STAT_TIMEOUT (seconds, default 5).
# shellcheck disable=SC2034 # variables used by the sourcing script
MOUNTS_FILE=${DRCM_MOUNTS_FILE:-/proc/mounts}
MOUNT=${MOUNT:-mount}
UMOUNT=${UMOUNT:-umount}
STAT_TIMEOUT=${DRCM_STAT_TIMEOUT:-5}

log() { echo "$PROG: $*"; }

fs_usage() {
  echo "Usage: $PROG SOURCE TARGET mount|unmount|umount|remount|watch" >&2
  exit 2
}

fs_check_args() {
  case $ACTION in
    mount | unmount | umount | remount | watch) ;;
    *) echo "$PROG: ERROR - Unknown action \"$ACTION\"" >&2; fs_usage ;;
  esac
  if [ -z "$SOURCE" ] || [ -z "$TARGET" ]; then fs_usage; fi
  [ "$TARGET" = / ] || TARGET=${TARGET%/}
}

# Mounted = a line of the mounts table with our source and target (octal escapes decoded).
is_mounted() {
  awk -v src="${SOURCE%/}" -v tgt="$TARGET" '
    function unescape(s) { gsub(/\\040/, " ", s); gsub(/\\011/, "\t", s); gsub(/\\134/, "\\", s); return s }
    { d = unescape($1); sub(/\/$/, "", d); if (d == src && unescape($2) == tgt) found = 1 }
    END { exit found ? 0 : 1 }' "$MOUNTS_FILE" 2>/dev/null
}

# Stale: stat hangs (a dead server) or reports "Stale file handle".
is_stale() {
  local out rc
  out=$(timeout "$STAT_TIMEOUT" stat -t "$TARGET" 2>&1)
  rc=$?
  [ "$rc" -eq 124 ] && return 0
  grep -qi 'stale file handle' <<<"$out"
}

do_mount() {
  if is_mounted; then
    log "INFO - $SOURCE is already mounted on $TARGET"
    return 0
  fi
  if [ ! -d "$TARGET" ]; then
    mkdir -p -- "$TARGET" || { log "ERROR - Cannot create mount point $TARGET"; return 1; }
  fi
  # 1.x marker, visible only while nothing is mounted over it.
  [ -e "$TARGET/not_mounted" ] || touch "$TARGET/not_mounted" 2>/dev/null
  fs_mount || { log "ERROR - Cannot mount $SOURCE on $TARGET"; return 1; }
  is_mounted || { log "ERROR - $SOURCE is not mounted on $TARGET after mount"; return 1; }
  log "INFO - Mounted $SOURCE on $TARGET"
}

do_unmount() {
  if ! is_mounted; then
    log "INFO - $SOURCE is not mounted on $TARGET"
    return 0
  fi
  if ! "$UMOUNT" "$TARGET"; then
    log "WARNING - umount $TARGET failed: detaching it lazily"
    "$UMOUNT" -f -l "$TARGET"
  fi
  if is_mounted; then
    log "ERROR - $SOURCE is still mounted on $TARGET"
    return 1
  fi
  log "INFO - Unmounted $TARGET"
}

do_remount() {
  if is_mounted; then
    "$UMOUNT" -f -l "$TARGET" || log "WARNING - Lazy unmount of $TARGET failed"
  fi
  do_mount
}

do_watch() {
  if ! is_mounted; then
    log "WARNING - $SOURCE is not mounted on $TARGET: mounting it"
    do_mount
    return
  fi
  if is_stale; then
    log "WARNING - Stale file handle on $TARGET: remounting"
    do_remount || return 1
    if is_stale; then
      log "ERROR - $TARGET is still stale after remount"
      return 1
    fi
  fi
  return 0
}

fs_run() {
  case $ACTION in
    mount) do_mount ;;
    unmount | umount) do_unmount ;;
    remount) do_remount ;;
    watch) do_watch ;;
  esac
}
