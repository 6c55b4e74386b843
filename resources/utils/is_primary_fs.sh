#!/bin/bash
# is_primary_fs.sh: prints TRUE when this node holds PRIMARY_FILESYSTEMS_IP on PRIMARY_FILESYSTEMS_ETH
# (my_cluster_info.sh), else FALSE. The address must match exactly (1.x matched a substring).
# Exit 1 with no output when the variables are not set.
set -u
# shellcheck source=drcm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/drcm_common.sh"
load_cluster_info
[ -n "${PRIMARY_FILESYSTEMS_IP:-}" ] && [ -n "${PRIMARY_FILESYSTEMS_ETH:-}" ] || exit 1
if iface_has_address "$PRIMARY_FILESYSTEMS_ETH" "$PRIMARY_FILESYSTEMS_IP"; then echo TRUE; else echo FALSE; fi
exit 0
