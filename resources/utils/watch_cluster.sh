#!/bin/bash
# watch_cluster.sh [CLUSTER_NAME] [SUBJECT] [BODY]: mail an alert when cm_stat is not HEALTHY.
# For root's crontab (1.x: hourly; drcm 2's alert_script reports each event as it happens, so this
# is now a safety net). BODY is text or a file; the cm_stat output is appended to it.
# Alerts go through send_alert with ALERTKIND=watch_cluster (throttle: ALERTTIMESPANHOURS, default 4).
# When the cluster is HEALTHY again after an alert, one recovery notice is sent (never throttled).
# Always exits 0 (1.x).
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"
load_cluster_info
VARdir="${VARdir:-${HOME:-/root}/var}"
mkdir -p "$VARdir"

NAME="${1:-${CLUSTER_NAME:-$DRCM_HOST}}"
SUBJECT="${2:-[!ACTION!] CM Alert Message From $NAME}"
BODY="${3:-}"
STATEFILE="$VARdir/watch_cluster.alerted"

STATFILE=$(mktemp "$VARdir/cm_stat.XXXXXX") || exit 0
trap 'rm -f "$STATFILE" "$STATFILE.body"' EXIT
cluster_cm_stat >"$STATFILE"

ALERTKIND=watch_cluster
# shellcheck source=send_alert.sh
. "$UTILSdir/send_alert.sh"

if "$GREP" -q 'Cluster status: HEALTHY' "$STATFILE"; then
  if [ -f "$STATEFILE" ]; then
    ALERTRECOVERY=1 send_alert "[OK] CM Cluster $NAME is HEALTHY again" "$STATFILE" && rm -f "$STATEFILE"
  fi
  exit 0
fi

{
  if [ -n "$BODY" ] && [ -f "$BODY" ]; then cat "$BODY"; elif [ -n "$BODY" ]; then printf '%s\n' "$BODY"; fi
  cat "$STATFILE"
} >"$STATFILE.body"
send_alert "$SUBJECT" "$STATFILE.body" && date +%s >"$STATEFILE"
exit 0
