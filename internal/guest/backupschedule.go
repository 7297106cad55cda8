package guest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Scheduled backups run on the nodes without the library: every node
// gets the same job (a systemd timer, or a setsid'd loop where there is no
// systemd), and at each run only one node acts, the backup node: of the
// members in their fixed order, the first in the primary component
// (wsrep_incoming_addresses) that is not the writer recorded in
// pxc_guest.writer (writer.go; none without the health responder). Every
// node that has applied the same record names the same one, so one backup
// is taken per run, not on the writer; it is skipped when that node is not
// Synced. The job prunes
// to the newest Keep backups, and keeps every backup younger than
// KeepDays days, after each verified backup.

// BackupSchedule configures scheduled backups.
type BackupSchedule struct {
	Repository BackupRepository
	// Interval between backups; at least 10s.
	Interval time.Duration
	// Keep is how many of the cluster's newest backups to keep, KeepDays
	// for how many days every backup is kept; a backup either keeps stays.
	// At least one of them is set.
	Keep, KeepDays int
}

// Retention is what a prune keeps: the newest Keep backups, and every
// backup of the last KeepDays days (0: that rule is off).
type Retention struct {
	Keep, KeepDays int
}

func (r Retention) validate() error {
	if r.Keep < 0 || r.KeepDays < 0 || (r.Keep == 0 && r.KeepDays == 0) {
		return fmt.Errorf("backup retention (keep %d, days %d): keep at least 1 backup or 1 day", r.Keep, r.KeepDays)
	}
	return nil
}

func (r Retention) String() string {
	switch {
	case r.KeepDays == 0:
		return fmt.Sprintf("the newest %d", r.Keep)
	case r.Keep == 0:
		return fmt.Sprintf("those of the last %d days", r.KeepDays)
	}
	return fmt.Sprintf("the newest %d and those of the last %d days", r.Keep, r.KeepDays)
}

// Files of the job; on the local cloud's hosts only /etc/mysql and
// /var/log/mysql are private to a machine, so they live there.
const (
	backupJobScript = "/etc/mysql/pxc-backup.sh"
	backupJobEnv    = "/etc/mysql/pxc-backup.env" // the repository's secrets, 0600
	backupJobLoop   = "/etc/mysql/pxc-backup-loop.sh"
	backupJobLog    = "/var/log/mysql/pxc-backup.log"
	backupTimerUnit = "/etc/systemd/system/pxc-backup.timer"
	backupJobUnit   = "/etc/systemd/system/pxc-backup.service"
)

func (s BackupSchedule) validate() error {
	if err := s.Repository.Validate(); err != nil {
		return err
	}
	if s.Interval < 10*time.Second {
		return fmt.Errorf("backup interval %s: at least 10s", s.Interval)
	}
	return s.retention().validate()
}

// BackupNode is the node the scheduled job backs up from, given the
// members in their fixed order, the recorded writer and one node's
// wsrep_incoming_addresses: the first one in the component that is not
// the writer (Writer).
func BackupNode(members []Node, recordedWriter, incomingAddresses string) (Node, bool) {
	writer, _ := Writer(members, recordedWriter, incomingAddresses)
	for _, m := range members {
		if m.Address != writer.Address && inComponent(m.Address, incomingAddresses) {
			return m, true
		}
	}
	return Node{}, false
}

// backupNodeShell is BackupNode in bash: from $MEMBERS, $recorded and
// $incoming it sets $backup_node.
const backupNodeShell = `writer="" backup_node=""
  for m in $MEMBERS; do
    if [ "$m" = "$recorded" ]; then case ",$incoming," in *",$m:"*) writer=$m;; esac; fi
  done
  for m in $MEMBERS; do
    [ "$m" = "$writer" ] && continue
    case ",$incoming," in *",$m:"*) backup_node=$m; break;; esac
  done`

func (s BackupSchedule) retention() Retention { return Retention{Keep: s.Keep, KeepDays: s.KeepDays} }

// pruneArgs are restic forget's policy flags: restic keeps a snapshot any
// of them keeps.
func pruneArgs(cluster string, r Retention) string {
	args := fmt.Sprintf("--tag %s --group-by host", shellQuote("cluster="+cluster))
	if r.Keep > 0 {
		args += fmt.Sprintf(" --keep-last %d", r.Keep)
	}
	if r.KeepDays > 0 {
		args += fmt.Sprintf(" --keep-within %dd", r.KeepDays)
	}
	return args
}

// renderBackupJob is one node's job script.
func (c *Cluster) renderBackupJob(members []Node, self Node, keep Retention) string {
	statusTable := "information_schema.GLOBAL_STATUS"
	if c.spec.Flavour == Percona {
		statusTable = "performance_schema.global_status"
	}
	st := func(name string) string {
		return fmt.Sprintf("(SELECT VARIABLE_VALUE FROM %s WHERE VARIABLE_NAME='%s')", statusTable, name)
	}
	query := "SET SESSION wsrep_sync_wait=0; SELECT " + st("wsrep_cluster_status") + ", " +
		st("wsrep_local_state_comment") + ", IFNULL(" + st("wsrep_incoming_addresses") + ",'')"
	var order []string
	for _, m := range members {
		order = append(order, m.Address)
	}
	return "#!/bin/bash\n# Scheduled backup of cluster " + c.spec.Name + " from node " + self.Name + ", written by the pxc guest library.\n" +
		backupPrelude(backupJobEnv) +
		"SELF=" + shellQuote(self.Address) + "\nMEMBERS=" + shellQuote(strings.Join(order, " ")) + "\n" +
		"row=$(" + c.layout.Client + " --defaults-extra-file=" + clientConfig + " --connect-timeout=5 -N -B -e " + shellQuote(query) + " | tail -n 1) || row=\"\"\n" +
		"IFS=$'\\t' read -r status state incoming <<<\"$row\"\n" +
		"if [ \"$status\" != Primary ]; then echo \"$(date -u +%FT%TZ) not in a primary component; skipped\"; exit 0; fi\n" +
		"recorded=$(" + c.layout.Client + " --defaults-extra-file=" + clientConfig + " --connect-timeout=5 -N -B -e " +
		shellQuote("SET SESSION wsrep_sync_wait=0; SELECT address FROM "+writerTable+" WHERE id = 1") + " 2>/dev/null | tail -n 1) || recorded=\"\"\n" +
		backupNodeShell + "\n" +
		"if [ \"$backup_node\" != \"$SELF\" ]; then echo \"$(date -u +%FT%TZ) the backup node is ${backup_node:-none}; skipped\"; exit 0; fi\n" +
		"if [ \"$state\" != Synced ]; then echo \"$(date -u +%FT%TZ) this node is $state, not Synced; skipped\"; exit 0; fi\n" +
		c.backupBody(self.Name) +
		`id=$(grep '"message_type":"summary"' "$tmp/out" | tail -n 1 | sed 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/')
got=$(restic dump "$id" ` + shellQuote("/"+c.streamName()) + ` | sha256sum | cut -d' ' -f1)
if [ "$got" != "$(cut -d' ' -f1 "$tmp/sha")" ]; then
  echo "$(date -u +%FT%TZ) snapshot $id: read-back hash differs from the stream's" >&2
  exit 1
fi
for i in $(seq 1 60); do
  if restic forget --prune ` + pruneArgs(c.spec.Name, keep) + ` >/dev/null; then break; fi
  [ "$i" = 60 ] && exit 1
  sleep 3
done
echo "$(date -u +%FT%TZ) snapshot $id verified; kept ` + keep.String() + `"
`
}

// EnsureBackupSchedule installs the job on every node and (re)starts its
// timer. Re-running it with another schedule replaces the old one.
func (c *Cluster) EnsureBackupSchedule(ctx context.Context, s BackupSchedule) error {
	if err := s.validate(); err != nil {
		return err
	}
	c.mask.add(s.Repository.secrets()...)
	members := c.Spec().Nodes
	return parallel(c.nodes(), func(n *node) error {
		if err := c.installBackupJob(ctx, n, members, s); err != nil {
			return fmt.Errorf("backup schedule on node %s: %w", n.Name, err)
		}
		c.emit("backup", n.Name, "backup job installed, every %s, keeping %s", s.Interval, s.retention())
		return nil
	})
}

func (c *Cluster) installBackupJob(ctx context.Context, n *node, members []Node, s BackupSchedule) error {
	if err := n.upload(ctx, backupJobEnv, s.Repository.stdin(), 0o600); err != nil {
		return err
	}
	if err := n.upload(ctx, backupJobScript, []byte(c.renderBackupJob(members, n.Node, s.retention())), 0o700); err != nil {
		return err
	}
	if err := c.detectInit(ctx, n); err != nil {
		return err
	}
	secs := int(s.Interval / time.Second)
	if n.init == InitSystemd {
		timer := fmt.Sprintf("[Unit]\nDescription=Scheduled backup of Galera cluster %s\n\n[Timer]\nOnActiveSec=%ds\nOnUnitActiveSec=%ds\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n", c.spec.Name, secs, secs)
		service := "[Unit]\nDescription=Backup of Galera cluster " + c.spec.Name + "\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c '" + backupJobScript + " >>" + backupJobLog + " 2>&1'\n"
		if err := n.upload(ctx, backupTimerUnit, []byte(timer), 0o644); err != nil {
			return err
		}
		if err := n.upload(ctx, backupJobUnit, []byte(service), 0o644); err != nil {
			return err
		}
		_, err := n.run(ctx, "systemctl daemon-reload && systemctl enable pxc-backup.timer && systemctl restart pxc-backup.timer", nil)
		return err
	}
	loop := fmt.Sprintf("#!/bin/bash\n# Runs the backup job every %ds (no systemd on this machine).\nwhile sleep %d; do %s >>%s 2>&1; done\n", secs, secs, backupJobScript, backupJobLog)
	if err := n.upload(ctx, backupJobLoop, []byte(loop), 0o700); err != nil {
		return err
	}
	_, err := n.run(ctx, stopBackupLoop+"\nsetsid "+backupJobLoop+" </dev/null >/dev/null 2>&1 &", nil)
	return err
}

// stopBackupLoop ends a running job loop (not a backup it started).
const stopBackupLoop = "pkill -f '^/bin/bash " + backupJobLoop + "$' || true"

// RemoveBackupSchedule stops the job on every node and removes its files,
// the repository's credentials included.
func (c *Cluster) RemoveBackupSchedule(ctx context.Context) error {
	return parallel(c.nodes(), func(n *node) error {
		script := "systemctl disable --now pxc-backup.timer >/dev/null 2>&1 || true\n" + stopBackupLoop + "\n" +
			"rm -f " + strings.Join([]string{backupTimerUnit, backupJobUnit, backupJobLoop, backupJobScript, backupJobEnv}, " ")
		if _, err := n.run(ctx, script, nil); err != nil {
			return fmt.Errorf("remove backup schedule on node %s: %w", n.Name, err)
		}
		return nil
	})
}
