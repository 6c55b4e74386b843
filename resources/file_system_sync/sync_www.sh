#!/bin/bash
# sync_www.sh: two-way replication of the directories in my_cluster_conf/www_sync_list.sh
# (see sync_file_system_include.sh). For the backup user's crontab on both file system nodes.
SERVICENAME=www
# shellcheck source=sync_file_system_include.sh
. "$(dirname "${BASH_SOURCE[0]}")/sync_file_system_include.sh"
