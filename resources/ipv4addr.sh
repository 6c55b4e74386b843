#!/bin/bash
# drcm resource agent: a floating IPv4 address.
#   ipv4addr.sh IP NETMASK IFACE start|stop|watch
# NETMASK is dotted (255.255.255.0) or a prefix length (24). IFACE may be a label (eth0:1: the
# address goes on eth0 with label eth0:1) or a list of alternatives `ens192|eno8303` (quote it
# in cm.cfg): the first interface that exists is used.
# start adds the address if absent, then always announces it with gratuitous ARP so clients'
# ARP caches follow at once: one packet before returning, the other ARPING_COUNT-1 (default 3
# in all) every ARPING_INTERVAL seconds (default 0.2) in the background. ARPING_COUNT=0 disables.
# ARPING_WAIT (default 0.3 s) bounds each arping run.
# watch only checks; it never changes anything (drcm uses it as the start-up probe).
# Exit: 0 success (watch: present), 1 failure (watch: absent), 2 bad arguments.
set -u

PROG=$(basename "$0")

usage() {
  echo "Usage: $PROG IP NETMASK IFACE start|stop|watch" >&2
  echo "  NETMASK: dotted (255.255.255.0) or prefix length (24); IFACE: eth0, eth0:1 or 'eth0|ens192'" >&2
  exit 2
}

log() { echo "$PROG: $*"; }

[ $# -eq 4 ] || usage
IP=$1
MASK=$2
IFACE_ARG=$3
ACTION=$4

valid_ipv4() {
  local IFS=. octet
  local -a parts
  [[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
  read -r -a parts <<<"$1"
  for octet in "${parts[@]}"; do
    [ "$((10#$octet))" -le 255 ] || return 1
  done
}

# Prints the prefix length of a dotted or numeric netmask; fails on a non-contiguous mask.
mask_to_prefix() {
  local mask=$1 IFS=. octet bits=0 seen_zero=0 i
  local -a parts
  if [[ $mask =~ ^[0-9]{1,2}$ ]]; then
    [ "$((10#$mask))" -le 32 ] || return 1
    echo "$((10#$mask))"
    return 0
  fi
  valid_ipv4 "$mask" || return 1
  read -r -a parts <<<"$mask"
  for octet in "${parts[@]}"; do
    for ((i = 7; i >= 0; i--)); do
      if (((10#$octet >> i) & 1)); then
        [ "$seen_zero" -eq 0 ] || return 1
        bits=$((bits + 1))
      else
        seen_zero=1
      fi
    done
  done
  echo "$bits"
}

case $ACTION in
  start | stop | watch) ;;
  *) echo "$PROG: ERROR - Unknown action \"$ACTION\"" >&2; usage ;;
esac
valid_ipv4 "$IP" || { echo "$PROG: ERROR - Not an IPv4 address: \"$IP\"" >&2; usage; }
PREFIX=$(mask_to_prefix "$MASK") || { echo "$PROG: ERROR - Not a netmask: \"$MASK\"" >&2; usage; }

# Pick the first alternative whose device exists.
DEV=""
LABEL=""
IFS='|' read -r -a CHOICES <<<"$IFACE_ARG"
for choice in "${CHOICES[@]}"; do
  choice=${choice//[[:space:]\'\"]/}
  [ -n "$choice" ] || continue
  if ip link show dev "${choice%%:*}" >/dev/null 2>&1; then
    DEV=${choice%%:*}
    [ "$choice" = "$DEV" ] || LABEL=$choice
    break
  fi
done
if [ -z "$DEV" ]; then
  echo "$PROG: ERROR - No interface of \"$IFACE_ARG\" exists on this host" >&2
  exit 1
fi

present() {
  ip -o -4 addr show dev "$DEV" 2>/dev/null | grep -q -F " inet $IP/"
}

# Sends one unsolicited ARP (-U: who-has IP from IP, broadcast; neighbours that know IP update
# their entry). arping sends at once but then waits a whole second for replies that never come
# to -U, and some versions take only whole seconds for -w/-i: so stop it with SIGINT shortly
# after and check its own report that the packet went out.
send_garp() {
  timeout -s INT "${ARPING_WAIT:-0.3}" arping -U -c 1 -I "$DEV" -s "$IP" "$IP" 2>&1 | grep -q "^Sent 1 probe"
}

announce() {
  local count=${ARPING_COUNT:-3} interval=${ARPING_INTERVAL:-0.2} i
  [[ $count =~ ^[0-9]+$ ]] || count=3
  [[ $interval =~ ^[0-9]+(\.[0-9]+)?$ ]] || interval=0.2
  [ "$count" -gt 0 ] || return 0
  if ! command -v arping >/dev/null 2>&1; then
    log "WARNING - arping not found: $IP on $DEV not announced (clients learn it when their ARP entry expires)"
    return 0
  fi
  if ! send_garp; then
    log "WARNING - Gratuitous ARP for $IP on $DEV failed"
    return 0
  fi
  if [ "$count" -gt 1 ]; then
    (
      for ((i = 1; i < count; i++)); do
        sleep "$interval"
        send_garp
      done
    ) </dev/null >/dev/null 2>&1 &
  fi
  log "INFO - Announced $IP on $DEV with gratuitous ARP ($count packets, every ${interval}s)"
}

case $ACTION in
  start)
    if present; then
      log "INFO - $IP already on $DEV"
    else
      if [ -n "$LABEL" ]; then
        ip addr add "$IP/$PREFIX" dev "$DEV" label "$LABEL" || { log "ERROR - Cannot add $IP/$PREFIX to $DEV"; exit 1; }
      else
        ip addr add "$IP/$PREFIX" dev "$DEV" || { log "ERROR - Cannot add $IP/$PREFIX to $DEV"; exit 1; }
      fi
      present || { log "ERROR - $IP/$PREFIX is not on $DEV after adding it"; exit 1; }
      log "INFO - Added $IP/$PREFIX to $DEV${LABEL:+ as $LABEL}"
    fi
    announce
    exit 0
    ;;
  stop)
    if ! present; then
      log "INFO - $IP not on $DEV, nothing to remove"
      exit 0
    fi
    ip addr del "$IP/$PREFIX" dev "$DEV" || { log "ERROR - Cannot remove $IP/$PREFIX from $DEV"; exit 1; }
    if present; then
      log "ERROR - $IP is still on $DEV after removing it"
      exit 1
    fi
    log "INFO - Removed $IP/$PREFIX from $DEV"
    exit 0
    ;;
  watch)
    if present; then
      log "INFO - $IP is on $DEV"
      exit 0
    fi
    log "ERROR - $IP is not on $DEV"
    exit 1
    ;;
esac
