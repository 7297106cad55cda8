// Package guest turns freshly booted servers into a verified Galera cluster
// over SSH: transport, configuration rendering, bootstrap, join, membership
// gate and recovery. It is usable without Terraform.
//
// # Shape
//
// A ClusterSpec names the cluster, the flavour (Percona XtraDB Cluster 5.7
// or 8.0, MariaDB 10.6, 10.11 or 11.x), the SST method, the ordered nodes
// (name, cluster address, how to reach it over SSH, its data volume),
// extra [mysqld] parameters and the root password. Validate checks a spec
// without contacting anything; New validates and returns a Cluster whose
// operations are each idempotent and safe to re-run after a failure:
//
//   - Prepare: on all nodes at once (a node whose server is still being
//     built, Node.Await, as soon as it is up), detect the init system (systemd or
//     none), check or install packages, write the Galera option file, find
//     the data volume (/dev/disk/by-id/virtio-<id prefix>, else a device
//     path; waited for while it attaches), mkfs.xfs only when it has no
//     filesystem (an ext4 volume made before is kept), mount it noatime at
//     /var/lib/mysql, add an fstab entry and initialise the datadir (two
//     nodes at a time, in join order: the first two go together).
//   - Bootstrap: start the first node as a new cluster and set root's
//     password (over stdin, never on a command line).
//   - Join: start the other nodes one at a time, each waited to Synced.
//   - RestartBootstrapNode: restart the first node as a normal member where
//     the flavour's bootstrap outlives that start (Percona's
//     mysql@bootstrap.service); MariaDB's applies to one start only.
//   - Gate / WaitGate / Status: the membership check over SQL tunnelled
//     through SSH: cluster size, one state UUID and conf_id, every node
//     Primary, Synced, ready and connected.
//   - EnsureUsers: CREATE USER / GRANT with correct quoting.
//   - Survey / Recover: grastate.dat and --wsrep-recover positions, a
//     Decision on the bootstrap source, then bootstrap and rejoin.
//   - Leave, StartNode, StopNode: membership and single-node changes.
//   - GrowFilesystem: grow the datadir's filesystem online after its volume
//     was extended (xfs_growfs, or resize2fs for an older ext4 volume).
//
// Create is the one create sequence every caller uses: Prepare, Bootstrap
// of the first node ready (the first in order, or, among nodes whose
// servers are still being built, the first up and prepared), Join of the
// others in the order they are ready, each once it is prepared,
// RestartBootstrapNode of the bootstrapped node, EnsureUsers for the
// users it is given, the gate, and EnsureClustercheck when the spec asks
// for the health responder (whose account and writer record the
// bootstrap already made, so a load balancer built beside the servers
// judges the members while they join). Its errors are *NodeError values naming the phase and node;
// ValidateDatastore, ValidateSST and ValidateParameters judge parts of a
// spec before there is a cluster.
//
// # Health responder
//
// EnsureClustercheck installs /etc/mysql/clustercheck.sh on every node and
// runs it as the mysql user, never root, under `socat
// TCP-LISTEN:9200,reuseaddr,fork,max-children=16 EXEC:...` (a socket unit
// with MaxConnections on systemd): GET / answers 200 only for a Primary,
// Synced, ready node that does not reject queries and is not in
// maintenance (503 otherwise; donors optionally allowed); GET /writer answers 200 only on the sticky writer recorded in
// the replicated table pxc_guest.writer: a healthy Synced node claims it
// when none is recorded or the recorded one left the component, and the
// writer releases it when it stops being Synced (donor), so exactly one
// healthy node is the writer and a returning node never takes it back.
// writer.go explains the rule; WriterDecision is the rule in Go and the
// script is rendered from the same rule. Every server start the library
// performs also (re)starts socat, so the responder survives restarts and
// reboots.
//
// # Without systemd
//
// Guests without systemd start the server detached from the SSH session
// (`setsid mysqld_safe` for MariaDB, `setsid mysqld --user=mysql` for
// Percona). mysqld_safe does not restart a crashed Galera node: StartNode
// brings it back (IST when the donor's gcache still has the writesets).
// Data volumes are mounted by Prepare; a guest without an init system that
// mounts /etc/fstab needs Prepare again after a reboot.
//
// # Files on the guests
//
// The option file is /etc/mysql/mariadb.conf.d/99-galera-guest.cnf for
// MariaDB, /etc/mysql/mysql.conf.d/zz-galera-guest.cnf for Percona 8.0 and
// /etc/mysql/percona-xtradb-cluster.conf.d/zz-galera-guest.cnf for Percona
// 5.7 (Debian/Ubuntu package layouts; the names sort after the packages'
// own files so these settings win). Root's client credentials are in
// /root/.my.cnf (mode 0600). The library logs in as root@127.0.0.1 through
// the SSH connection, so the database port need not be reachable from the
// caller.
//
// # Backups
//
// Backup (backup.go) streams a physical hot backup (`mariabackup` or, for
// Percona, `xtrabackup --backup --stream=xbstream`) of a Synced node that
// is not the single-writer rule's writer straight into a restic
// repository (Swift or S3): restic encrypts, compresses and deduplicates
// on the node, nothing is staged on its disk. The stream's SHA-256 is
// taken on the way and compared with a read-back of the snapshot (and,
// optionally, restic check --read-data-subset). Snapshots are tagged with
// the cluster and the source node; Backups lists them, PruneBackups keeps
// the newest n, DeleteBackup removes one. RestoreBackup (restore.go)
// unpacks a snapshot into a staging directory, prepares it and moves it
// back into an empty datadir of a stopped server, and removes everything
// it wrote when any step fails; SeedFromBackup does that on a new
// cluster's first node before Create, which then bootstraps from it and
// joins the others by SST. EnsureBackupSchedule (backupschedule.go)
// installs the same backup as a job on every node (a systemd timer, else a
// setsid'd loop, like the health responder); at each run only BackupNode,
// the first member of the primary component after the writer, backs up,
// then prunes to the newest Keep. The repository's password and the
// backend's credentials travel only on the SSH session's stdin, into the
// environment of the one shell that needs them (the scheduled job keeps
// them in /etc/mysql/pxc-backup.env, mode 0600).
//
// # Secrets
//
// Passwords travel only over SSH stdin, uploaded files (0600/0640) and the
// SQL protocol. Errors and events pass through a masker that replaces
// known secrets with ***, because server errors quote the SQL they refuse.
//
// # Progress
//
// WithObserver receives Events (phase, node, message, elapsed), such as
// "join db2: node 2/3 joined, Synced (12s)". The Terraform provider bridges
// them to tflog.
package guest
