package guest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RestoreRequest says which backup to restore, from where, with which
// flavour's tools.
type RestoreRequest struct {
	Repository BackupRepository
	// SnapshotID is the backup (BackupInfo.ID).
	SnapshotID string
	// Cluster is the name of the cluster the backup was taken of (the
	// stream inside the snapshot is named after it).
	Cluster string
	Flavour Flavour
}

// RestoreBackup restores a backup into the datadir of a machine whose
// server is stopped and whose datadir is empty: the stream is unpacked
// straight from the repository into a staging directory, prepared, and
// moved into /var/lib/mysql, owned by mysql. It never overwrites data: a
// non-empty datadir or a running server fails at once. On any failure
// (a corrupt or truncated backup, the wrong key) the staging directory and
// whatever reached the datadir are removed. Starting the server is the
// caller's: Bootstrap seeds a new cluster from it.
func RestoreBackup(ctx context.Context, r Runner, req RestoreRequest) error {
	if err := req.Repository.Validate(); err != nil {
		return err
	}
	if !snapshotIDRe.MatchString(req.SnapshotID) {
		return fmt.Errorf("restore backup %q: not a snapshot id", req.SnapshotID)
	}
	if !clusterNameRe.MatchString(req.Cluster) {
		return fmt.Errorf("restore backup %s: cluster name %q: use 1-32 letters, digits, '-' or '_'", req.SnapshotID, req.Cluster)
	}
	if err := ValidateDatastore(req.Flavour, versionAny(req.Flavour)); err != nil {
		return err
	}
	m := newMasker(req.Repository.secrets()...)
	mr := maskingRunner{r: r, m: m}
	run := func(ctx context.Context, cmd string, stdin []byte) (string, error) {
		out, err := mr.Run(ctx, cmd, stdin)
		return string(out), err
	}
	// A failed attempt leaves the datadir empty, so a locked repository is
	// waited for by trying again.
	if _, err := runLocked(ctx, run, backupScript(restoreBody(req)), req.Repository.stdin(), 2*time.Second); err != nil {
		return fmt.Errorf("restore backup %s of cluster %s: %w", req.SnapshotID, req.Cluster, err)
	}
	return nil
}

// versionAny is a supported version of the flavour, to validate the flavour alone.
func versionAny(f Flavour) string {
	if f == Percona {
		return "8.0"
	}
	return "10.11"
}

// restoreBody checks the datadir is empty and the server stopped, then
// dump | extract, prepare, move back. Exit status 3 means "refused".
func restoreBody(req RestoreRequest) string {
	tools := toolsFor(req.Flavour)
	stream := shellQuote("/" + req.Cluster + ".xbstream")
	return `datadir=` + dataDir + `
if pgrep -x mariadbd >/dev/null || pgrep -x mysqld >/dev/null; then
  echo "a database server is running; stop it before restoring" >&2
  exit 3
fi
if [ -n "$(ls -A "$datadir" 2>/dev/null | grep -vx lost+found || true)" ]; then
  echo "the datadir $datadir is not empty; refusing to overwrite it" >&2
  exit 3
fi
mkdir -p "$datadir"
work=$(mktemp -d /var/lib/pxc-restore.XXXXXX)
cleanup() {
  rc=$?
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then
    find "$datadir" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} +
  fi
}
trap cleanup EXIT
mkdir "$work/data"
if ! restic dump ` + shellQuote(req.SnapshotID) + ` ` + stream + ` | ` + tools.Extract + ` -x -C "$work/data"; then
  echo "the backup could not be read back intact (corrupt, truncated, or the wrong key)" >&2
  exit 1
fi
if ! ` + tools.Backup + ` --prepare --target-dir="$work/data" >"$work/log" 2>&1; then
  tail -c 2000 "$work/log" >&2
  exit 1
fi
if ! ` + tools.Backup + ` --move-back --target-dir="$work/data" --datadir="$datadir" >"$work/log" 2>&1; then
  tail -c 2000 "$work/log" >&2
  exit 1
fi
chown -R mysql:mysql "$datadir"
echo ` + shellQuote(req.SnapshotID) + ` >"$datadir/` + restoredMarker + `"
`
}

// restoredMarker, in a restored datadir, holds the snapshot id: a re-run
// of SeedFromBackup knows its restore is done (the server ignores files
// at the top of the datadir).
const restoredMarker = ".pxc-restored"

// recoverablePosition is the shell test every start of MariaDB asks before
// its --wsrep-recover pass (a whole server start and stop): Galera ran on
// the datadir (grastate.dat) or it is a restored backup (restoredMarker).
// Without either there is no position to find, and the start skips it.
const recoverablePosition = "[ -e " + dataDir + "/grastate.dat ] || [ -e " + dataDir + "/" + restoredMarker + " ]"

// SeedFromBackup makes the first node's datadir a restored backup, before
// Create: it gets the node ready as Prepare does (init system, packages,
// data volume) and restores into the empty datadir. Prepare then finds
// the datadir initialised, Bootstrap starts the new cluster from it and
// the other nodes join by SST: reached before Create, the node is ready
// first there even where another node's server was up before it (Await).
// Re-running it after the restore finished is
// a no-op; a datadir holding anything else is refused, never overwritten.
func (c *Cluster) SeedFromBackup(ctx context.Context, repo BackupRepository, snapshotID, fromCluster string) error {
	n := c.nodes()[0]
	start := time.Now()
	if err := c.detectInit(ctx, n); err != nil {
		return &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
	}
	if err := c.ensurePackages(ctx, n); err != nil {
		return &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
	}
	if !n.DataVolume.isZero() {
		if err := c.ensureVolume(ctx, n); err != nil {
			return &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
		}
	}
	done, err := n.run(ctx, "cat "+dataDir+"/"+restoredMarker+" 2>/dev/null || true", nil)
	if err != nil {
		return &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
	}
	if strings.TrimSpace(done) == snapshotID {
		c.emit("restore", n.Name, "backup %s already restored", snapshotID)
		return nil
	}
	if err := c.RestoreNode(ctx, n.Name, repo, snapshotID, fromCluster); err != nil {
		return &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
	}
	c.emitDone("restore", n.Name, start, "seeded from backup %s of cluster %s", snapshotID, fromCluster)
	return nil
}

// RestoreNode restores a backup of this cluster into one member before it
// first starts (after Prepare, before Bootstrap): see RestoreBackup.
func (c *Cluster) RestoreNode(ctx context.Context, nodeName string, repo BackupRepository, snapshotID, fromCluster string) error {
	n, err := c.node(nodeName)
	if err != nil {
		return err
	}
	r, err := n.getRunner(ctx)
	if err != nil {
		return err
	}
	c.mask.add(repo.secrets()...)
	if err := RestoreBackup(ctx, r, RestoreRequest{Repository: repo, SnapshotID: snapshotID, Cluster: fromCluster, Flavour: c.spec.Flavour}); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}
