#!/bin/bash
# mail_alert.sh: an alert_script agent that mails each cluster event. In cm.cfg:
#   [CM_SERVER]
#   alert_script = /etc/drcm/utils/mail_alert.sh
# The daemon runs it once per event with DRCM_EVENT, DRCM_NODE, DRCM_RESOURCE, DRCM_SLOT, DRCM_MESSAGE,
# DRCM_SELF, DRCM_TIME, DRCM_EPOCH, DRCM_CONFIG, DRCM_SEVERITY, DRCM_RECOVERY and DRCM_DROPPED set.
# Mail goes through send_alert (cm_alert_list.sh, UNIXMAILPROGRAM) with a throttle per problem (event
# kind + node + resource): at most one mail per problem every ALERTTIMESPANHOURS (default 4, 0
# disables). Recovery notices (node_alive, failback, resource_recovered, quorum_regained,
# ping_regained) are always sent and reset the throttle of the problem they end, so a node that dies
# again after coming back is mailed again.
# VARdir defaults to /var/lib/drcm/alerts here (the daemon runs as root; the time files survive a reboot).
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"

if [ -z "${DRCM_EVENT:-}" ]; then
  echo "ERROR - DRCM_EVENT is not set: mail_alert.sh is run by drcm as alert_script (see operations.md)" >&2
  exit 2
fi

VARdir="${VARdir:-/var/lib/drcm/alerts}"
load_cluster_info
CLUSTER="${CLUSTER_NAME:-$DRCM_HOST}"

about="${DRCM_RESOURCE:-}"
[ -n "$about" ] && [ -n "${DRCM_NODE:-}" ] && about="$about of ${DRCM_NODE}"
[ -n "$about" ] || about="${DRCM_NODE:-cluster}"
SUBJECT="[${DRCM_SEVERITY:-INFO}] drcm ${CLUSTER}: ${DRCM_EVENT} ${about}"

BODY="${DRCM_MESSAGE:-}

Event:     ${DRCM_EVENT}
Severity:  ${DRCM_SEVERITY:-INFO}
Node:      ${DRCM_NODE:-}
Resource:  ${DRCM_RESOURCE:-}
Slot:      ${DRCM_SLOT:-}
Time:      ${DRCM_TIME:-}
Reported:  by ${DRCM_SELF:-$DRCM_HOST} (config ${DRCM_CONFIG:-})"
if [ "${DRCM_DROPPED:-0}" != "0" ]; then
  BODY="$BODY
WARNING:   ${DRCM_DROPPED} earlier alerts were dropped (alert queue full)"
fi

ALERTKIND="$DRCM_EVENT"
ALERTNODE="${DRCM_NODE:-}"
ALERTRESOURCE="${DRCM_RESOURCE:-}"
ALERTRECOVERY="${DRCM_RECOVERY:-0}"
# The problems each recovery ends (their throttle is reset for the same resource, else node).
case "$DRCM_EVENT" in
  node_alive) ALERTRESETS="node_dead node_leaving" ;;
  failback) ALERTRESETS="takeover" ;;
  resource_recovered) ALERTRESETS="resource_failed" ;;
  quorum_regained) ALERTRESETS="quorum_lost" ;;
  ping_regained) ALERTRESETS="ping_lost" ;;
  *) ALERTRESETS="$DRCM_EVENT" ;;
esac
# shellcheck source=send_alert.sh
. "$UTILSdir/send_alert.sh"
send_alert "$SUBJECT" "$BODY"
