package guest_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

const backupMarker = "PLAINTEXT-MARKER-7d1f4c"

// startObjectCloud starts a local cloud for its Swift object store; the
// lab's hosts go on its network and reach Swift and Keystone on the
// bridge gateway.
func startObjectCloud(t *testing.T) (*localcloud.Cloud, string) {
	t.Helper()
	needRoot(t)
	if _, err := exec.LookPath("restic"); err != nil {
		t.Skip("restic not installed (tools/install-deps.sh installs it)")
	}
	dir, err := os.MkdirTemp("/var/tmp", "guest-backup-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cloud, err := localcloud.Start(ctx, localcloud.Config{StateDir: dir, NetPrefix: "gbk"})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatal(err)
	}
	nw := cloud.Network()
	t.Cleanup(func() {
		if err := cloud.Close(); err != nil {
			t.Errorf("close cloud: %v", err)
		}
		assertNothingLeft(t, nw)
		_ = os.RemoveAll(dir)
	})
	return cloud, dir
}

// restoreTarget is a fresh host, not a cluster member, reached over SSH.
func restoreTarget(t *testing.T, ctx context.Context, l *lab, h *host.Host) *guest.SSHClient {
	t.Helper()
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func checksum(t *testing.T, ctx context.Context, db *sql.DB) int64 {
	t.Helper()
	var table string
	var sum int64
	if err := db.QueryRowContext(ctx, "CHECKSUM TABLE shop.items").Scan(&table, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestBackupRestoreThroughSwift backs up a real Galera node (not the
// writer) into the local cloud's Swift with restic, lists and prunes, then
// restores into a fresh host: a flipped byte in a stored object fails the
// restore and leaves the datadir empty; the intact backup restores to
// equal checksums. The stored objects hold no plaintext.
func TestBackupRestoreThroughSwift(t *testing.T) {
	cloud, stateDir := startObjectCloud(t)
	l := newLabOn(t, cloud.Network(), "bk1", "bk2", "bk3", "bk4", "rs1", "rs2", "rs3")
	for i := range l.spec.Nodes {
		l.spec.Nodes[i].DataVolume = guest.DataVolume{}
	}
	fresh := l.hosts[3]
	newSpec := l.spec
	newSpec.Name, newSpec.Nodes = "restored", l.spec.Nodes[4:]
	l.hosts = l.hosts[:3]
	l.spec.Nodes = l.spec.Nodes[:3]
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c := l.cluster(t)
	if _, err := c.Create(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := c.DB(ctx, "bk1")
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, ctx, db, "CREATE DATABASE shop")
	exec1(t, ctx, db, "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(64), payload TEXT)")
	exec1(t, ctx, db, "INSERT INTO shop.items SELECT seq, CONCAT('item-', seq), REPEAT(MD5(seq), 8) FROM shop.seq_1_to_20000")
	exec1(t, ctx, db, "INSERT INTO shop.items VALUES (0, ?, 'the marker row')", backupMarker)

	user, password, project, domain := cloud.Credentials()
	repo := guest.BackupRepository{
		Repository: "swift:pxc-backups:/" + l.spec.Name,
		Password:   "restic-key-'\"\\-" + password[:6],
		Env: map[string]string{
			"OS_AUTH_URL": cloud.ObjectStoreURL() + "/identity/v3", "OS_USERNAME": user, "OS_PASSWORD": password,
			"OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": domain, "OS_PROJECT_DOMAIN_NAME": domain,
			"OS_REGION_NAME": "RegionOne",
		},
	}
	t0 := time.Now()
	seen := watchHealth(ctx, c, "bk2")
	first, err := c.Backup(ctx, repo, guest.BackupOptions{CheckSubset: "100%"})
	if err != nil {
		t.Fatal(err)
	}
	checkBackupDesyncNeedsNoRepair(t, seen())
	t.Logf("TIMING backup %.1fs: %d bytes streamed, %d added", time.Since(t0).Seconds(), first.Bytes, first.Added)
	if first.Node != "bk2" {
		t.Errorf("backup taken on %s, want bk2 (bk1 is the writer)", first.Node)
	}
	// One snapshot so far: every stored pack holds its data.
	// Encrypted and compressed: no stored object holds the marker.
	objects, _ := filepath.Glob(filepath.Join(stateDir, "swift", "*", "*", "*.data"))
	if len(objects) < 3 {
		t.Fatalf("stored objects: %v", objects)
	}
	var largest string
	var largestSize int64
	for _, f := range objects {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(backupMarker)) || bytes.Contains(b, []byte("item-19999")) {
			t.Errorf("stored object %s holds plaintext", f)
		}
		if int64(len(b)) > largestSize {
			largest, largestSize = f, int64(len(b))
		}
	}

	cl := restoreTarget(t, ctx, l, fresh)
	req := guest.RestoreRequest{Repository: repo, SnapshotID: first.ID, Cluster: l.spec.Name, Flavour: guest.MariaDB}
	// A flipped byte: the restore fails clearly and leaves nothing behind.
	flip(t, largest, largestSize/2)
	err = guest.RestoreBackup(ctx, cl, req)
	if err == nil || !strings.Contains(err.Error(), "could not be read back intact") {
		t.Errorf("restore of a corrupted backup: %v", err)
	}
	if out := console(t, fresh, "ls -A /var/lib/mysql; ls -d /var/lib/pxc-restore.* 2>/dev/null || true"); strings.TrimSpace(out) != "" {
		t.Errorf("left behind by the failed restore:\n%s", out)
	}
	flip(t, largest, largestSize/2)
	// The wrong key: as clear, and nothing left either.
	wrongKey := req
	wrongKey.Repository.Password = "not-the-key"
	if err := guest.RestoreBackup(ctx, cl, wrongKey); err == nil || !strings.Contains(err.Error(), "wrong password or no key found") {
		t.Errorf("restore with the wrong key: %v", err)
	}
	if out := console(t, fresh, "ls -A /var/lib/mysql"); strings.TrimSpace(out) != "" {
		t.Errorf("left behind by the restore with the wrong key:\n%s", out)
	}

	// A change after the first backup, then the backup to restore.
	exec1(t, ctx, db, "UPDATE shop.items SET name = 'changed' WHERE id = 17")
	second, err := c.Backup(ctx, repo, guest.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Added >= first.Added {
		t.Errorf("the second backup added %d bytes, the first %d: no deduplication", second.Added, first.Added)
	}
	src, err := c.DB(ctx, second.Node)
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, ctx, src, "SET SESSION wsrep_sync_wait = 1")
	want := checksum(t, ctx, src)
	// Not in the restored data: written after the backup.
	exec1(t, ctx, db, "UPDATE shop.items SET name = 'after the backup' WHERE id = 18")

	list, err := c.Backups(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID || list[1].Node != second.Node || list[1].Cluster != l.spec.Name {
		t.Fatalf("backups listed: %+v", list)
	}
	if err := c.PruneBackups(ctx, repo, guest.Retention{Keep: 1}); err != nil {
		t.Fatal(err)
	}
	if list, err = c.Backups(ctx, repo); err != nil || len(list) != 1 || list[0].ID != second.ID {
		t.Fatalf("after pruning to 1: %+v (%v)", list, err)
	}

	req.SnapshotID = second.ID
	if err := guest.RestoreBackup(ctx, cl, req); err != nil {
		t.Fatal(err)
	}
	if err := guest.RestoreBackup(ctx, cl, req); err == nil || !strings.Contains(err.Error(), "not empty; refusing to overwrite it") {
		t.Errorf("restore over restored data: %v", err)
	}
	if _, err := cl.Run(ctx, "install -d -o mysql -g root -m 755 /run/mysqld; setsid /usr/bin/mysqld_safe </dev/null >/dev/null 2>&1 &", nil); err != nil {
		t.Fatal(err)
	}
	restored := tunnelDB(t, cl, "root", rootPassword)
	deadline := time.Now().Add(2 * time.Minute)
	for restored.PingContext(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the restored server did not start")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := checksum(t, ctx, restored); got != want {
		t.Errorf("restored CHECKSUM TABLE %d, source at the backup %d", got, want)
	}
	var name string
	if err := restored.QueryRowContext(ctx, "SELECT name FROM shop.items WHERE id = 0").Scan(&name); err != nil || name != backupMarker {
		t.Errorf("marker row restored as %q (%v)", name, err)
	}

	// A new cluster seeded from the backup: its first node restored, the
	// others joined by SST; every node has the backup's data.
	rc, err := guest.New(newSpec, guest.WithObserver(l.events.observe), guest.WithPollInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	for range 2 { // the second run finds the restore done
		if err := rc.SeedFromBackup(ctx, repo, second.ID, l.spec.Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rc.Create(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range newSpec.Nodes {
		ndb, err := rc.DB(ctx, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, ctx, ndb, "SET SESSION wsrep_sync_wait = 1")
		if got := checksum(t, ctx, ndb); got != want {
			t.Errorf("%s in the restored cluster: CHECKSUM TABLE %d, source at the backup %d", n.Name, got, want)
		}
	}

	// The schedule: every node runs the job, only bk2 backs up; it prunes to 2.
	if err := c.EnsureBackupSchedule(ctx, guest.BackupSchedule{Repository: repo, Interval: 10 * time.Second, Keep: 2}); err != nil {
		t.Fatal(err)
	}
	scheduled := map[string]bool{}
	deadline = time.Now().Add(3 * time.Minute)
	for len(scheduled) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("scheduled backups seen: %v", scheduled)
		}
		time.Sleep(2 * time.Second)
		list, err := c.Backups(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 3 {
			t.Fatalf("retention 2 let %d backups pile up: %+v", len(list), list)
		}
		for _, b := range list {
			if b.ID != second.ID {
				scheduled[b.ID] = true
				if b.Node != "bk2" {
					t.Errorf("scheduled backup %s taken on %s, want bk2", b.ID[:8], b.Node)
				}
			}
		}
	}
	if err := c.RemoveBackupSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range l.hosts {
		out := console(t, h, "ls /etc/mysql/pxc-backup* 2>/dev/null || true; pgrep -f '^/bin/bash /etc/mysql/pxc-backup-loop' || true")
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s: left after removing the schedule: %s", h.Name(), out)
		}
	}
	if list, err = c.Backups(ctx, repo); err != nil || len(list) > 3 || len(list) < 2 {
		t.Errorf("after the schedule: %d backups (%v), want 2 (3 while one ran)", len(list), err)
	}
	if log := console(t, l.hosts[0], "cat /var/log/mysql/pxc-backup.log"); !strings.Contains(log, "the backup node is "+l.hosts[1].Addr().String()+"; skipped") {
		t.Errorf("bk1's job log:\n%s", log)
	}
	if text := l.events.text(); strings.Contains(text, password) || strings.Contains(text, repo.Password) {
		t.Error("events contain a repository secret")
	}
}

// watchHealth probes node's health over and over until the returned
// function is called, which returns every probe.
func watchHealth(ctx context.Context, c *guest.Cluster, node string) func() []guest.NodeHealth {
	var seen []guest.NodeHealth
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			hs, _ := c.Health(ctx)
			for _, h := range hs {
				if h.Node == node {
					seen = append(seen, h)
				}
			}
		}
	}()
	return func() []guest.NodeHealth {
		close(stop)
		<-done
		return seen
	}
}

// checkBackupDesyncNeedsNoRepair: the probes of the backup's source saw
// its tool run, and whenever the tool's BACKUP STAGE held it desynced
// (about 0.3 s here), the probe knew it for a backup's, not a state
// transfer's.
func checkBackupDesyncNeedsNoRepair(t *testing.T, seen []guest.NodeHealth) {
	t.Helper()
	running, desynced := 0, 0
	for _, h := range seen {
		if h.BackingUp {
			running++
		}
		if h.Status.LocalState == "Donor/Desynced" {
			desynced++
			if !h.DesyncedByBackup() {
				t.Errorf("the backup's source was Donor/Desynced and not known desynced by the backup: %+v", h)
			}
		}
	}
	t.Logf("%d probes of the backup's source during the backup: the tool ran in %d, %d Donor/Desynced", len(seen), running, desynced)
	if running == 0 {
		t.Errorf("no probe of the backup's source saw mariabackup run (%d probes)", len(seen))
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// tunnelDB logs in as user@127.0.0.1 on a host through its SSH client.
func tunnelDB(t *testing.T, cl *guest.SSHClient, user, password string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", "127.0.0.1:3306"
	cfg.DialFunc = cl.DialContext
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}
