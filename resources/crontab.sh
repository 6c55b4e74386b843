#!/bin/bash
# drcm resource agent: a crontab file installed into a cron directory.
#   crontab.sh TEMPLATE INSTALL_DIR start|stop|watch
# start copies TEMPLATE to INSTALL_DIR/<basename of TEMPLATE> (temp file + rename, so cron never
# reads half a file), mode 0644, and touches /etc/crontab (DRCM_SYSTEM_CRONTAB) if it exists so
# crond rereads. stop removes it. watch only checks: 0 iff the installed file equals TEMPLATE.
# Unlike 1.x this script does not source ~/.bashrc.
# Exit: 0 success, 1 failure, 2 bad arguments.
set -u

PROG=$(basename "$0")

usage() {
  echo "Usage: $PROG TEMPLATE INSTALL_DIR start|stop|watch" >&2
  exit 2
}

log() { echo "$PROG: $*"; }

[ $# -eq 3 ] || usage
TEMPLATE=$1
INSTALL_DIR=${2%/}
ACTION=$3
case $ACTION in
  start | stop | watch) ;;
  *) echo "$PROG: ERROR - Unknown action \"$ACTION\"" >&2; usage ;;
esac
if [ -z "$TEMPLATE" ] || [ -z "$INSTALL_DIR" ]; then usage; fi

INSTALLED=$INSTALL_DIR/$(basename "$TEMPLATE")
SYSTEM_CRONTAB=${DRCM_SYSTEM_CRONTAB:-/etc/crontab}

# crond notices changes in cron.d by the mtime of the directory or of /etc/crontab.
poke_cron() {
  if [ -f "$SYSTEM_CRONTAB" ]; then
    touch "$SYSTEM_CRONTAB" || log "WARNING - Cannot touch $SYSTEM_CRONTAB"
  fi
}

case $ACTION in
  start)
    if [ ! -f "$TEMPLATE" ] || [ ! -r "$TEMPLATE" ]; then
      log "ERROR - Template \"$TEMPLATE\" is missing or unreadable"
      exit 1
    fi
    if [ ! -d "$INSTALL_DIR" ]; then
      log "ERROR - Install directory \"$INSTALL_DIR\" does not exist"
      exit 1
    fi
    # A dot-name: cron ignores it while it is being written.
    TMP=$(mktemp "$INSTALL_DIR/.drcm-crontab.XXXXXX") || { log "ERROR - Cannot create a temporary file in $INSTALL_DIR"; exit 1; }
    if ! cp -- "$TEMPLATE" "$TMP" || ! chmod 0644 "$TMP" || ! mv -f -- "$TMP" "$INSTALLED"; then
      rm -f -- "$TMP"
      log "ERROR - Cannot install $TEMPLATE to $INSTALLED"
      exit 1
    fi
    poke_cron
    log "INFO - Installed $TEMPLATE to $INSTALLED"
    exit 0
    ;;
  stop)
    if [ -e "$INSTALLED" ]; then
      rm -f -- "$INSTALLED"
      if [ -e "$INSTALLED" ]; then
        log "ERROR - Cannot remove $INSTALLED"
        exit 1
      fi
      poke_cron
      log "INFO - Removed $INSTALLED"
    else
      log "INFO - $INSTALLED not installed, nothing to remove"
    fi
    exit 0
    ;;
  watch)
    if [ -f "$INSTALLED" ] && cmp -s -- "$TEMPLATE" "$INSTALLED"; then
      log "INFO - $INSTALLED is installed"
      exit 0
    fi
    if [ -e "$INSTALLED" ]; then
      log "ERROR - $INSTALLED differs from $TEMPLATE"
    else
      log "ERROR - $INSTALLED is not installed"
    fi
    exit 1
    ;;
esac
