#!/bin/bash
# Example my_cluster_info.sh: an NFS server pair, 192.168.122.111 primary, .112 backup,
# replication over a second network, nightly copies to a storage server.
export CLUSTER_NAME="NFS-CLUSTER1"
export BACKUP_STORAGE_SERVER="192.168.122.1"
export BACKUP_STORAGE_LOCATION="/backups"
export BACKUP_USER="root"
export PRIMARY_FILESYSTEMS_IP="192.168.122.111"
export PRIMARY_FILESYSTEMS_ETH="eth0"
export BACKUP_FILESYSTEMS_IP="192.168.122.112"
export BACKUP_FILESYSTEMS_ETH="eth0"
export PRIMARY_FILESYSTEMS_RSYNC_IP="10.10.10.111"
export BACKUP_FILESYSTEMS_RSYNC_IP="10.10.10.112"
