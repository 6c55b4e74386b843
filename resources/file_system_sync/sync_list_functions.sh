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
#   SYNC_FAILBACK_SINCE  epoch seconds (the backup's last failed-over run): failback mode, see
#                 sync_file_system_include.sh. Every entry is copied with --update (a file newer on
#                 the destination is kept), and RsyncMirror then deletes on the destination what is
#                 gone here, except files and directories changed there after that time.
#   SYNC_ROTATE   1: RsyncRotate is allowed (shared storage); else it is run as RsyncCopy
#   RYSNC RYSNCargs RYSNCcopyargs SSH SSHargs (1.x names, "RYSNC" sic; defaults below)
# and reads SYNC_ERRORS (number of failed entries) afterwards. sync_say is the caller's logger.

RYSNC="${RYSNC:-rsync}"
RYSNCargs="${RYSNCargs:--AavPh --delete --sparse --progress --force --stats}"
RYSNCcopyargs="${RYSNCcopyargs:--AavPh --sparse --progress --force --stats}"
SSH="${SSH:-ssh}"
SSHargs="${SSHargs:-}"
SYNC_ERRORS=0
SYNC_FAILBACK_SINCE="${SYNC_FAILBACK_SINCE:-}"
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

# Run on the destination by failback_delete (one line, no single quotes: it is passed in '...' to
# the remote login shell). Reads the NUL list of what the source has; deletes what the source does
# not have, unless its mtime is newer than $2 (the destination wrote it after coming back).
# Directories are listed before files are deleted (deleting a file makes its directory newer).
# shellcheck disable=SC2016 # expanded by the remote bash, not here
FAILBACK_DELETE_SCRIPT='set -u; cd "$1" || exit 1; t=$(mktemp -d) || exit 1; trap "rm -rf \"\$t\"" EXIT; sort -z >"$t/keep"; find . -mindepth 1 -type d ! -newermt "@$2" -printf "%P\0" | sort -z >"$t/dirs"; find . -mindepth 1 ! -type d ! -newermt "@$2" -printf "%P\0" | sort -z >"$t/files"; comm -z -23 "$t/files" "$t/keep" | xargs -0 -r rm -fv -- || exit 1; comm -z -23 "$t/dirs" "$t/keep" | sort -z -r | xargs -0 -r rmdir -v --ignore-fail-on-non-empty -- || exit 1'

# failback_delete SRC DEST: deletes on SYNC_HOST what is in DEST but gone from SRC, except what the
# destination changed after SYNC_FAILBACK_SINCE (race-free: the age is checked there, at deletion).
failback_delete() {
  local src="$1" dest="$2"
  sync_say "Deleting on $SYNC_HOST:$dest what was deleted here, except what changed there since $(date -d "@$SYNC_FAILBACK_SINCE" '+%b %d %H:%M:%S')"
  if ! (cd "$src" && find . -mindepth 1 -printf '%P\0') |
    sync_remote "bash -c '$FAILBACK_DELETE_SCRIPT' drcm-failback $(printf '%q' "$dest") $SYNC_FAILBACK_SINCE" >>"${LOGfile:-/dev/null}" 2>&1; then
    sync_say "ERROR - Deleting on $SYNC_HOST:$dest failed (see ${LOGfile:-the log})"
    SYNC_ERRORS=$((SYNC_ERRORS + 1))
    return 1
  fi
  return 0
}

RsyncMirror() {
  if [ -n "$SYNC_FAILBACK_SINCE" ]; then
    rsync_entry "$RYSNCcopyargs --update" "$1" "$SYNC_PREFIX$1" && failback_delete "$1" "$SYNC_PREFIX$1"
  else
    rsync_entry "$RYSNCargs" "$1" "$SYNC_PREFIX$1"
  fi
}

RsyncCopy() {
  if [ -n "$SYNC_FAILBACK_SINCE" ]; then
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
