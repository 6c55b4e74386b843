#!/bin/bash
# process_lock.sh: one-at-a-time locking for cron jobs (sourced, not run). The caller sets LOCKfile.
#
#   LockFileCheck [MIN]        take the lock, or exit 1 when another process holds it (MIN: minutes after
#                              which a holder is reported as hung), or exit 2 when the lock file cannot
#                              be created (message with the path and the reason on stderr)
#   SimpleLockFileCheck [MIN]  the same (1.x had a variant without the pid check; both are one thing now)
#   CreateLockFile             take the lock (return 1 if another process holds it, 2 if the file cannot
#                              be created); no-op if we hold it. A missing lock directory is created:
#                              /var/run is a tmpfs, so e.g. /var/run/drcm is gone after a reboot
#   RemoveLockFile             release it
#
# 1.x wrote hostname:pid into the file and checked it later: two jobs starting together could both
# see "no lock" and both run, a crashed job left a lock that blocked every run for MIN minutes, and
# the stale-lock cleanup killed whatever `ps -ef | grep PID` matched. Here the lock is flock(1) on
# the file: taking it is atomic, and the kernel releases it when the holder (and every child it
# passed the descriptor to, such as rsync) has exited, so there are no stale locks to clean up.
# The file still holds hostname:pid and the start time, for the message a blocked job prints.
# The file is never deleted: deleting a flock file lets a third job lock a new inode while the
# second still waits on the old one.

DRCM_LOCKfd=""

CreateLockFile() {
  [ -n "$DRCM_LOCKfd" ] && return 0
  if [ -z "${LOCKfile:-}" ]; then
    echo "ERROR - LOCKfile is not set before CreateLockFile" >&2
    return 1
  fi
  local fd err dir
  dir=$(dirname "$LOCKfile")
  if [ -e "$dir" ] && [ ! -d "$dir" ]; then
    echo "ERROR - Cannot create lock file $LOCKfile: $dir is not a directory" >&2
    return 2
  fi
  if [ ! -d "$dir" ] && ! err=$(mkdir -p "$dir" 2>&1); then
    echo "ERROR - Cannot create the lock directory $dir for $LOCKfile: ${err##*: }" >&2
    return 2
  fi
  # Open in a subshell first: a failed redirection's reason is only on stderr.
  if ! err=$( { : >>"$LOCKfile"; } 2>&1); then
    echo "ERROR - Cannot create lock file $LOCKfile: ${err##*: }" >&2
    return 2
  fi
  if ! { exec {fd}>>"$LOCKfile"; } 2>/dev/null; then
    echo "ERROR - Cannot create lock file $LOCKfile" >&2
    return 2
  fi
  if ! flock -n "$fd"; then
    exec {fd}>&-
    return 1
  fi
  DRCM_LOCKfd=$fd
  # Truncate through a second open: our descriptor is O_APPEND and must stay open to keep the lock.
  printf '%s:%s %s\n' "$(hostname -s 2>/dev/null || uname -n)" "$$" "$(date +%s)" >"$LOCKfile"
  return 0
}

RemoveLockFile() {
  [ -n "$DRCM_LOCKfd" ] || return 0
  : >"$LOCKfile" 2>/dev/null
  flock -u "$DRCM_LOCKfd"
  exec {DRCM_LOCKfd}>&-
  DRCM_LOCKfd=""
  return 0
}

LockFileCheck() {
  local min="${1:-60}" rc
  CreateLockFile
  rc=$?
  [ "$rc" -eq 0 ] && return 0
  [ "$rc" -eq 2 ] && exit 2
  local holder started age
  read -r holder started <"$LOCKfile" 2>/dev/null
  started="${started:-$(date +%s)}"
  age=$(($(date +%s) - started))
  echo "Lock file $LOCKfile is held by ${holder:-another process} for ${age} seconds"
  if [ "$age" -ge $((min * 60)) ]; then
    echo "WARNING - The lock holder has run for more than $min minutes: check for a hung process"
  fi
  exit 1
}

SimpleLockFileCheck() {
  LockFileCheck "$@"
}
