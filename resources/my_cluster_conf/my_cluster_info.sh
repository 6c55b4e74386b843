#!/bin/bash
# Cluster facts for the drcm utils and file_system_sync scripts (see /usr/share/doc/drcm/operations.md).
# A file /etc/drcm/my_cluster_info/<hostname -s>.sh, if present, is read after this one.

# A simple cluster name, no spaces (alert subjects, shared storage paths).
export CLUSTER_NAME="CLUSTER1"

# Storage server and directory for backup_to_shared_storage.sh.
export BACKUP_STORAGE_SERVER=""
export BACKUP_STORAGE_LOCATION="/backups"

# The user that runs the sync and backup scripts; it needs keyed ssh access to the other node
# and to the storage server, and write access to /etc/drcm/my_cluster_conf and /var/lib/drcm.
export BACKUP_USER="root"

# 2-way file system replication: the node holding the primary file systems, and its backup.
export PRIMARY_FILESYSTEMS_IP=""
export PRIMARY_FILESYSTEMS_ETH="eth0"
export BACKUP_FILESYSTEMS_IP=""
export BACKUP_FILESYSTEMS_ETH="eth0"

# Optional: run rsync over another network (high bandwidth interface).
## export PRIMARY_FILESYSTEMS_RSYNC_IP=""
## export BACKUP_FILESYSTEMS_RSYNC_IP=""
