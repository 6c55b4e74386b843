#!/bin/bash
# Compatibility name of the 1.x multi-interface agent: ipv4addr.sh already picks the first
# existing interface of an `a|b` list (1.x looked for ifcfg-<name> files instead).
#   ipv4addr_multi.sh IP NETMASK 'IFACE1|IFACE2' start|stop|watch
exec "$(dirname "$0")/ipv4addr.sh" "$@"
