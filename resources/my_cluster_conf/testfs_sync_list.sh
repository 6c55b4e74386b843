#!/bin/bash
# Directories replicated by /etc/drcm/file_system_sync/sync_testfs.sh, one per line:
#   RsyncMirror /dir    exact copy (files deleted here are deleted on the other node)
#   RsyncCopy /dir      copy (files deleted here are kept on the other node)
# Create /testfs on both nodes, writable by the backup user, before the first run.
RsyncMirror /testfs
