#!/bin/bash
# Shared set-up of the drcm utils and file_system_sync scripts (sourced, not run).
#
# Every path and program is a variable with the 1.x name and default, so a test or an admin can
# override it from the environment: DRCMdir, CFGFILE, DRCM_BIN (1.x: DRCM_server), IP, DRCM_HOST.
#
# 1.x sourced ~/.bashrc unconditionally. That is not done here: under cron a .bashrc may print
# (breaking scripts that parse output), `return` early for non-interactive shells, set aliases or
# `set -e`, or change PATH so that a different rsync/ssh runs than the one tested; and for root it
# runs whatever happens to be in root's profile. Set DRCM_SOURCE_BASHRC=1 to get the 1.x behaviour.

if [ "${DRCM_SOURCE_BASHRC:-0}" = "1" ] && [ -f "${HOME:-/root}/.bashrc" ]; then
  # shellcheck disable=SC1091
  . "${HOME:-/root}/.bashrc"
fi

# Cron gives a bare PATH; the drcm binary and ip(8) live in /usr/sbin.
PATH="${PATH:-/usr/bin:/bin}:/usr/sbin:/sbin:/usr/bin:/bin"
export PATH

DRCMdir="${DRCMdir:-/etc/drcm}"
DRCM_BIN="${DRCM_BIN:-${DRCM_server:-drcm}}"
DRCM_server="$DRCM_BIN"
CFGFILE="${CFGFILE:-$DRCMdir/my_cluster_conf/my_cluster_info.sh}"
IP="${IP:-ip}"
GREP="${GREP:-grep}"
# Short host name, as 1.x used for per-host overrides and log names.
DRCM_HOST="${DRCM_HOST:-$(hostname -s 2>/dev/null || uname -n)}"
DRCM_UTILSdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UTILSdir="${UTILSdir:-$DRCM_UTILSdir}"

# Reads my_cluster_info.sh and the optional per-host override (1.x directory name: my_cluster_info).
load_cluster_info() {
  if [ -f "$CFGFILE" ]; then
    # shellcheck disable=SC1090
    . "$CFGFILE"
  fi
  local hostfile="$DRCMdir/my_cluster_info/${DRCM_HOST}.sh"
  if [ -f "$hostfile" ]; then
    # shellcheck disable=SC1090
    . "$hostfile"
  fi
  return 0
}

# Prints the IPv4 addresses configured on interface $1 (an alias label like eth0:1 means its device).
iface_addresses() {
  "$IP" -4 addr show dev "${1%%:*}" 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "inet") { split($(i + 1), a, "/"); print a[1] } }'
}

# True when address $2 is configured on interface $1: whole-address match (1.x matched a substring,
# so 192.168.122.11 was "found" on a node that has 192.168.122.111).
iface_has_address() {
  local addr
  for addr in $(iface_addresses "$1"); do
    [ "$addr" = "$2" ] && return 0
  done
  return 1
}

# cm_stat text of the cluster (stdout and stderr), exit status of the client.
cluster_cm_stat() {
  "$DRCM_BIN" --client --command=cm_stat 2>&1
}

# The phrase 1.x scripts grep (behaviour spec 4.7).
cluster_is_healthy() {
  cluster_cm_stat | "$GREP" -q 'Cluster status: HEALTHY'
}
