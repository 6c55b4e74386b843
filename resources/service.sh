#!/bin/bash
# drcm resource agent: a system service.
#   service.sh NAME start|stop|restart|reload|status|watch
# Uses systemd when it is really running (/run/systemd/system exists), else the SysV init
# script DRCM_INITD_DIR/NAME (default /etc/init.d), else `service NAME`. Setting DRCM_INITD_DIR
# forces SysV mode (tests, hosts with both).
# start/stop act only when needed; restart restarts (or starts); reload reloads (restart only if
# the service has no reload); watch starts a dead service (auto-restart); status prints the
# status and exits 0 running / 3 stopped.
# Exit: 0 success, 1 failure, 2 bad arguments, 3 (status only) not running.
set -u

PROG=$(basename "$0")

usage() {
  echo "Usage: $PROG NAME start|stop|restart|reload|status|watch" >&2
  exit 2
}

log() { echo "$PROG: $*"; }

[ $# -eq 2 ] || usage
NAME=$1
ACTION=$2
case $ACTION in
  start | stop | restart | reload | status | watch) ;;
  *) echo "$PROG: ERROR - Unknown action \"$ACTION\"" >&2; usage ;;
esac
[ -n "$NAME" ] || usage

if [ -z "${DRCM_INITD_DIR:-}" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  MODE=systemd
else
  MODE=sysv
  INITD=${DRCM_INITD_DIR:-/etc/init.d}
  if [ -x "$INITD/$NAME" ]; then
    SYSV=("$INITD/$NAME")
  elif [ -z "${DRCM_INITD_DIR:-}" ] && command -v service >/dev/null 2>&1; then
    SYSV=(service "$NAME")
  else
    log "ERROR - No init script $INITD/$NAME and no systemd: cannot manage service \"$NAME\""
    exit 1
  fi
fi

# Runs one verb of the service manager.
svc() {
  if [ "$MODE" = systemd ]; then
    systemctl "$1" "$NAME"
  else
    "${SYSV[@]}" "$1"
  fi
}

running() {
  if [ "$MODE" = systemd ]; then
    systemctl is-active --quiet "$NAME"
    return
  fi
  local out rc
  out=$("${SYSV[@]}" status 2>&1)
  rc=$?
  # LSB: status exits 0 when running; some old scripts exit 0 anyway and only say so.
  [ "$rc" -eq 0 ] && ! grep -qiE 'is stopped|not running|is dead|inactive' <<<"$out"
}

has_reload() {
  if [ "$MODE" = systemd ]; then
    [ "$(systemctl show -p CanReload --value "$NAME" 2>/dev/null)" = yes ]
  elif [ "${SYSV[0]}" = service ]; then
    return 0
  else
    # A case label such as `reload)` or `reload|force-reload)` outside comments.
    grep -v '^[[:space:]]*#' "${SYSV[0]}" 2>/dev/null | grep -qE '(^|[[:space:]|(])reload[[:space:]]*[|)]'
  fi
}

start() {
  if running; then
    log "INFO - Service $NAME is already running"
    return 0
  fi
  svc start
  if running; then
    log "INFO - Started service $NAME"
    return 0
  fi
  log "ERROR - Service $NAME did not start"
  return 1
}

case $ACTION in
  start)
    start
    exit
    ;;
  stop)
    if ! running; then
      log "INFO - Service $NAME is not running"
      exit 0
    fi
    svc stop
    if running; then
      log "ERROR - Service $NAME is still running after stop"
      exit 1
    fi
    log "INFO - Stopped service $NAME"
    exit 0
    ;;
  restart)
    if running; then svc restart; else svc start; fi
    if running; then
      log "INFO - Restarted service $NAME"
      exit 0
    fi
    log "ERROR - Service $NAME is not running after restart"
    exit 1
    ;;
  reload)
    if ! running; then
      log "ERROR - Service $NAME is not running: nothing to reload"
      exit 1
    fi
    if has_reload; then
      svc reload && { log "INFO - Reloaded service $NAME"; exit 0; }
      log "ERROR - Reload of service $NAME failed"
      exit 1
    fi
    log "INFO - Service $NAME has no reload: restarting it"
    svc restart
    running || { log "ERROR - Service $NAME is not running after restart"; exit 1; }
    exit 0
    ;;
  status)
    svc status
    if running; then exit 0; fi
    exit 3
    ;;
  watch)
    if running; then
      exit 0
    fi
    log "WARNING - Service $NAME is not running: restarting it"
    start
    exit
    ;;
esac
