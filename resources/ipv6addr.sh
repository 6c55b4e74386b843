#!/bin/bash
# drcm resource agent: a floating IPv6 address.
#   ipv6addr.sh IP PREFIXLEN IFACE start|stop|watch
# IP is an IPv6 address in full or compressed form (no zone, no /prefix). PREFIXLEN is a plain
# number 1-128. IFACE is a name or a list of alternatives `ens192|eno8303` (quote it in cm.cfg):
# the first interface that exists is used. A `:label` suffix (eth0:1) means nothing for IPv6
# (the kernel has no IPv6 labels): it is dropped with a note.
#
# start adds the address with `nodad` if absent, so it is usable at once: no duplicate address
# detection (DAD) wait, no "tentative" phase. It then announces it with unsolicited neighbour
# advertisements (NA: to ff02::1, override flag set, target link-layer address option), so
# neighbours that have an entry for IP replace the old holder's MAC at once: one NA before start
# returns, the other NA_COUNT-1 (default 3 in all) every NA_INTERVAL seconds (default 0.2) in the
# background. NA_COUNT=0 disables. A repeated start of a held address re-announces it.
#
# How the NA is sent, and why not by the kernel: net.ipv6.conf.IFACE.ndisc_notify=1 makes Linux
# send one unsolicited NA when an address completes DAD, but not for a nodad (or optimistic)
# address, which never goes through DAD completion (checked on 6.18: no NA reaches a neighbour for
# a nodad add with ndisc_notify=1; an address added with DAD is announced, but only after it has
# been tentative, unusable, for about a second). Nor can the kernel be made to repeat it without
# removing and re-adding the address, which would drop the connections using it. So the NAs are
# built in user space, as Pacemaker's IPaddr2 does (with send_ua), by the first tool found:
#   1. send_ua from resource-agents (/usr/libexec/heartbeat/send_ua; NA_SEND_UA=path overrides);
#   2. python3 (or RHEL's /usr/libexec/platform-python): a raw ICMPv6 socket bound to IP, hop
#      limit 255 (neighbours drop NAs with any other), the kernel fills in the checksum.
# NA_TOOL=send_ua|python3 forces one; neither found: a warning, not a failure (neighbours then
# find the new MAC through neighbour unreachability detection: several seconds).
# Limits: an NA only updates an entry a neighbour already has (Linux creates none from an
# unsolicited NA unless accept_untracked_na is set; RFC 4861 7.2.5), which is what a failover
# needs; switches learn the new port from the NA's source MAC like from any frame. IP must not be
# tentative to bind to: nodad sees to it.
#
# watch only checks; it never changes anything (drcm uses it as the start-up probe).
# Exit: 0 success (watch: present), 1 failure (watch: absent), 2 bad arguments.
set -u

PROG=$(basename "$0")

usage() {
  echo "Usage: $PROG IP PREFIXLEN IFACE start|stop|watch" >&2
  echo "  IP: IPv6 address (fd00:1::10); PREFIXLEN: 1-128 (64); IFACE: eth0 or 'eth0|ens192'" >&2
  exit 2
}

log() { echo "$PROG: $*"; }

[ $# -eq 4 ] || usage
IP=$1
PLEN=$2
IFACE_ARG=$3
ACTION=$4

# Full (8 groups) or compressed (one "::") IPv6 text form, hexadecimal groups of 1-4 digits. No
# zone (%eth0), no /prefix, no embedded dotted IPv4 tail.
valid_ipv6() {
  local addr=$1 head tail part ngroups=0 group
  local -a groups
  [[ $addr =~ ^[0-9A-Fa-f:]+$ ]] || return 1
  [ "${#addr}" -le 39 ] || return 1
  if [[ $addr == *::* ]]; then
    head=${addr%%::*}
    tail=${addr#*::}
    [[ $tail != *::* ]] || return 1
    for part in "$head" "$tail"; do
      [ -n "$part" ] || continue
      IFS=: read -r -a groups <<<"$part"
      [[ $part != :* && $part != *: ]] || return 1
      for group in "${groups[@]}"; do
        [[ $group =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
        ngroups=$((ngroups + 1))
      done
    done
    [ "$ngroups" -le 7 ] || return 1
  else
    [[ $addr != :* && $addr != *: ]] || return 1
    IFS=: read -r -a groups <<<"$addr"
    [ "${#groups[@]}" -eq 8 ] || return 1
    for group in "${groups[@]}"; do
      [[ $group =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
    done
  fi
}

case $ACTION in
  start | stop | watch) ;;
  *) echo "$PROG: ERROR - Unknown action \"$ACTION\"" >&2; usage ;;
esac
if [[ $IP == */* ]]; then
  echo "$PROG: ERROR - Give the prefix length as the second argument, not in the address: \"$IP\"" >&2
  usage
fi
if [[ $IP == *%* ]]; then
  echo "$PROG: ERROR - A zone (%iface) is not allowed in the address: \"$IP\"" >&2
  usage
fi
valid_ipv6 "$IP" || { echo "$PROG: ERROR - Not an IPv6 address: \"$IP\"" >&2; usage; }
case ${IP,,} in
  ff*) echo "$PROG: ERROR - A multicast address cannot be a floating address: \"$IP\"" >&2; usage ;;
esac
if [[ $IP =~ ^[0:]*$ ]] || [[ $IP =~ ^[0:]*:0{0,3}1$ ]]; then
  echo "$PROG: ERROR - The unspecified or loopback address cannot be a floating address: \"$IP\"" >&2
  usage
fi
if [[ $PLEN =~ ^[0-9]{1,3}$ ]] && [ "$((10#$PLEN))" -ge 1 ] && [ "$((10#$PLEN))" -le 128 ]; then
  PLEN=$((10#$PLEN))
else
  echo "$PROG: ERROR - Not a prefix length 1-128: \"$PLEN\"" >&2
  usage
fi

# Pick the first alternative whose device exists.
DEV=""
IFS='|' read -r -a CHOICES <<<"$IFACE_ARG"
for choice in "${CHOICES[@]}"; do
  choice=${choice//[[:space:]\'\"]/}
  [ -n "$choice" ] || continue
  if ip link show dev "${choice%%:*}" >/dev/null 2>&1; then
    DEV=${choice%%:*}
    [ "$choice" = "$DEV" ] || log "NOTE - IPv6 addresses have no labels: using $DEV for \"$choice\""
    break
  fi
done
if [ -z "$DEV" ]; then
  echo "$PROG: ERROR - No interface of \"$IFACE_ARG\" exists on this host" >&2
  exit 1
fi

# The line `ip` prints for IP on DEV, empty when absent. `to IP/128` lets iproute2 compare the
# addresses, so any text form of IP matches the kernel's canonical one.
addr_line() {
  ip -o -6 addr show dev "$DEV" to "$IP/128" 2>/dev/null | head -n 1
}
present() { [ -n "$(addr_line)" ]; }
# The prefix length the kernel has for IP (del needs the one it was added with).
held_plen() {
  addr_line | sed -n 's|.* inet6 [0-9A-Fa-f:]*/\([0-9]*\) .*|\1|p'
}
has_flag() { # has_flag LINE FLAG
  [[ " $1 " == *" $2 "* ]]
}

add_addr() {
  local err
  if ! err=$(ip -6 addr add "$IP/$PLEN" dev "$DEV" nodad 2>&1); then
    if [ "$(cat "/proc/sys/net/ipv6/conf/$DEV/disable_ipv6" 2>/dev/null)" = 1 ]; then
      log "ERROR - Cannot add $IP/$PLEN to $DEV: IPv6 is disabled on $DEV (net.ipv6.conf.$DEV.disable_ipv6=1)"
    else
      log "ERROR - Cannot add $IP/$PLEN to $DEV: $err"
    fi
    return 1
  fi
}

del_addr() {
  local plen
  plen=$(held_plen)
  [ -n "$plen" ] || plen=$PLEN
  ip -6 addr del "$IP/$plen" dev "$DEV"
}

# One unsolicited NA with python3: ICMPv6 type 136, flags O (override), target IP, option 2
# (target link-layer address), from IP to ff02::1 with hop limit 255.
PY_NA='
import socket, struct, sys
ip, dev = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(dev)
with open("/sys/class/net/%s/address" % dev) as f:
    lla = bytes.fromhex(f.read().strip().replace(":", ""))
opt = struct.pack("!BB", 2, (2 + len(lla) + 7) // 8) + lla
opt += b"\0" * (-len(opt) % 8)
pkt = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + socket.inet_pton(socket.AF_INET6, ip) + opt
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.bind((ip, 0, 0, idx))
s.sendto(pkt, ("ff02::1", 0, 0, idx))
'

SEND_UA=""
PYTHON=""
NA_VIA=""
find_na_tool() {
  local want=${NA_TOOL:-auto} c
  if [ "$want" = auto ] || [ "$want" = send_ua ]; then
    for c in "${NA_SEND_UA:-}" /usr/libexec/heartbeat/send_ua /usr/lib/heartbeat/send_ua "$(command -v send_ua 2>/dev/null)"; do
      if [ -n "$c" ] && [ -x "$c" ]; then SEND_UA=$c; NA_VIA="send_ua"; return 0; fi
    done
  fi
  if [ "$want" = auto ] || [ "$want" = python3 ]; then
    for c in "$(command -v python3 2>/dev/null)" /usr/libexec/platform-python; do
      if [ -n "$c" ] && [ -x "$c" ]; then PYTHON=$c; NA_VIA="python3"; return 0; fi
    done
  fi
  return 1
}

send_na() {
  if [ -n "$SEND_UA" ]; then
    # send_ua sends Count NAs Interval ms apart and returns; one at a time here.
    "$SEND_UA" -c 1 -i 1 "$IP" "$PLEN" "$DEV"
  else
    "$PYTHON" -c "$PY_NA" "$IP" "$DEV"
  fi
}

announce() {
  local count=${NA_COUNT:-3} interval=${NA_INTERVAL:-0.2} i err
  [[ $count =~ ^[0-9]+$ ]] || count=3
  [[ $interval =~ ^[0-9]+(\.[0-9]+)?$ ]] || interval=0.2
  [ "$count" -gt 0 ] || return 0
  if ! find_na_tool; then
    log "WARNING - No neighbour advertisement sender found (send_ua of resource-agents, or python3)${NA_TOOL:+ for NA_TOOL=$NA_TOOL}: $IP on $DEV not announced (neighbours learn it through unreachability detection)"
    return 0
  fi
  if ! err=$(send_na 2>&1); then
    log "WARNING - Unsolicited neighbour advertisement for $IP on $DEV failed ($NA_VIA): $err"
    return 0
  fi
  if [ "$count" -gt 1 ]; then
    (
      for ((i = 1; i < count; i++)); do
        sleep "$interval"
        send_na
      done
    ) </dev/null >/dev/null 2>&1 &
  fi
  log "INFO - Announced $IP on $DEV with unsolicited neighbour advertisements via $NA_VIA ($count packets, every ${interval}s)"
}

case $ACTION in
  start)
    line=$(addr_line)
    if [ -n "$line" ] && { has_flag "$line" dadfailed || has_flag "$line" tentative; }; then
      # A tentative or dadfailed address carries no traffic: replacing it drops nothing.
      log "NOTE - $IP on $DEV is $(has_flag "$line" dadfailed && echo dadfailed || echo tentative): adding it again with nodad"
      del_addr || { log "ERROR - Cannot remove the unusable $IP from $DEV"; exit 1; }
      line=""
    fi
    if [ -n "$line" ]; then
      log "INFO - $IP already on $DEV"
    else
      add_addr || exit 1
      line=$(addr_line)
      [ -n "$line" ] || { log "ERROR - $IP/$PLEN is not on $DEV after adding it"; exit 1; }
      log "INFO - Added $IP/$PLEN to $DEV (nodad)"
    fi
    if has_flag "$line" dadfailed || has_flag "$line" tentative; then
      log "ERROR - $IP on $DEV is not usable: $line"
      exit 1
    fi
    announce
    exit 0
    ;;
  stop)
    if ! present; then
      log "INFO - $IP not on $DEV, nothing to remove"
      exit 0
    fi
    del_addr || { log "ERROR - Cannot remove $IP from $DEV"; exit 1; }
    if present; then
      log "ERROR - $IP is still on $DEV after removing it"
      exit 1
    fi
    log "INFO - Removed $IP from $DEV"
    exit 0
    ;;
  watch)
    line=$(addr_line)
    if [ -z "$line" ]; then
      log "ERROR - $IP is not on $DEV"
      exit 1
    fi
    if has_flag "$line" dadfailed; then
      log "ERROR - $IP is on $DEV but dadfailed (another host has it)"
      exit 1
    fi
    log "INFO - $IP is on $DEV"
    exit 0
    ;;
esac
