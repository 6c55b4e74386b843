#!/bin/bash
# The sync-list language (sourced by sync_file_system_include.sh and backup_to_shared_storage.sh).
# A sync list is a bash file of lines like:
#   RsyncMirror /data        exact copy: files removed here are removed there (--delete)
#   RsyncCopy /archive       copy: files removed here are kept there
#   RsyncRotate /etc [30]    (backup_to_shared_storage.sh) copy into a rotating daily folder:
#                            Rotating/<weekday 0-6>/, or Rotating/<day 01-31>/ when 30 is given
#
# The caller sets:
#   SYNC_HOST     ssh destination (host or user@host)
#   SYNC_PREFIX   path put in front of DIR on the destination ("" for two-way replication)
#   SYNC_CATCHUP  1: every entry is a copy that never deletes and never overwrites a newer file
#                 (the failback catch-up pass, see sync_file_system_include.sh)
#   SYNC_ROTATE   1: RsyncRotate is allowed (shared storage); else it is run as RsyncCopy
#   RYSNC RYSNCargs RYSNCcopyargs SSH SSHargs (1.x names, "RYSNC" sic; defaults below)
# and reads SYNC_ERRORS (number of failed entries) afterwards. sync_say is the caller's logger.

RYSNC="${RYSNC:-rsync}"
RYSNCargs="${RYSNCargs:--AavPh --delete --sparse --progress --force --stats}"
RYSNCcopyargs="${RYSNCcopyargs:--AavPh --sparse --progress --force --stats}"
SSH="${SSH:-ssh}"
SSHargs="${SSHargs:-}"
SYNC_ERRORS=0
SYNC_CATCHUP="${SYNC_CATCHUP:-0}"
SYNC_ROTATE="${SYNC_ROTATE:-0}"

# ssh to SYNC_HOST with the configured options.
sync_remote() {
  local -a opts=()
  read -r -a opts <<<"${SSHargs:-}"
  "$SSH" "${opts[@]}" "$SYNC_HOST" "$@"
}

# rsync_entry ARGS SRC DEST: creates DEST on the destination, then rsyncs SRC/. into it.
rsync_entry() {
  local args="$1" src="$2" dest="$3"
  local -a rargs=()
  read -r -a rargs <<<"$args"
  if [ ! -d "$src" ]; then
    sync_say "ERROR - $src is not a directory on this node: not synced"
    SYNC_ERRORS=$((SYNC_ERRORS + 1))
    return 1
  fi
  if ! sync_remote "mkdir -p $(printf '%q' "$dest")" >>"${LOGfile:-/dev/null}" 2>&1; then
    sync_say "ERROR - Cannot create $dest on $SYNC_HOST"
    SYNC_ERRORS=$((SYNC_ERRORS + 1))
    return 1
  fi
  sync_say "Syncing $src to $SYNC_HOST:$dest"
  # 1.x RsyncCopy left out -e, so the word ssh became a source path.
  if ! "$RYSNC" "${rargs[@]}" -e "$SSH ${SSHargs:-}" "$src/." "$SYNC_HOST:$dest/." >>"${LOGfile:-/dev/null}" 2>&1; then
    sync_say "ERROR - rsync of $src to $SYNC_HOST:$dest failed (see ${LOGfile:-the log})"
    SYNC_ERRORS=$((SYNC_ERRORS + 1))
    return 1
  fi
  return 0
}

RsyncMirror() {
  if [ "$SYNC_CATCHUP" = "1" ]; then
    rsync_entry "$RYSNCcopyargs --update" "$1" "$SYNC_PREFIX$1"
  else
    rsync_entry "$RYSNCargs" "$1" "$SYNC_PREFIX$1"
  fi
}

RsyncCopy() {
  if [ "$SYNC_CATCHUP" = "1" ]; then
    rsync_entry "$RYSNCcopyargs --update" "$1" "$SYNC_PREFIX$1"
  else
    rsync_entry "$RYSNCcopyargs" "$1" "$SYNC_PREFIX$1"
  fi
}

RsyncRotate() {
  if [ "$SYNC_ROTATE" != "1" ]; then
    sync_say "WARNING - RsyncRotate $1 is for backup_to_shared_storage.sh lists: copied like RsyncCopy"
    RsyncCopy "$1"
    return
  fi
  local slot
  if [ "${2:-}" = "30" ]; then slot=$(date +%d); else slot=$(date +%w); fi
  rsync_entry "$RYSNCargs" "$1" "$SYNC_PREFIX/Rotating/$slot$1"
}
