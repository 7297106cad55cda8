package provider

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Generated data: bkTables tables of bkRows rows of 256 bytes, ~100 MB.
const (
	bkTables = 4
	bkRows   = 100000
	bkMarker = "PLAINTEXT-MARKER-acc-3f9e1b"
)

// backupRun is what the steps of TestAccBackupRestore learn and check.
type backupRun struct {
	t         *testing.T
	lc        localCloud
	container string
	authURL   string
	src, copy string // cluster names
	wrongKey  string
	corrupt   string
	w         *dayTwoWrites
	// Writes acknowledged through the VIP before the backup began and
	// after it was done: the restored write table lies between.
	ackedBefore, ackedAfter int
	backupStart             time.Time
	sums                    map[string]int64 // CHECKSUM TABLE of the generated tables
	backupID                string
}

// TestAccBackupRestore: a cluster with ~100 MB of generated data behind a
// single-writer load balancer; a pxc_backup taken on a non-writer while
// writes run through the VIP (none fails, none is lost); a new cluster
// restored from it has every generated table's CHECKSUM TABLE of the
// source, and its write table is the source's up to one point between the
// backup's start and end; no stored object holds the marker row in
// plaintext; restores with the wrong key and of a backup with a flipped
// byte fail at restore_from and leave nothing in the cloud; the schedule
// backs up on its own and its retention prunes the pxc_backup, which
// pxc_backups then lists no more.
func TestAccBackupRestore(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	suffix := acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	r := &backupRun{
		t: t, lc: lc, container: "acc-backups-" + suffix, authURL: os.Getenv("LOCALCLOUD_SERVER_AUTH_URL"),
		src: "accbk-" + suffix, copy: "accrs-" + suffix, wrongKey: "accwk-" + suffix, corrupt: "acccr-" + suffix,
		w: &dayTwoWrites{},
	}
	if r.authURL == "" || os.Getenv("LOCALCLOUD_DIR") == "" {
		t.Fatal("the local cloud's env lacks LOCALCLOUD_SERVER_AUTH_URL or LOCALCLOUD_DIR: run through `make test`")
	}
	t.Cleanup(func() { r.w.stop() })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             r.checkNothingNamed(r.src, r.copy, r.wrongKey, r.corrupt),
		Steps: []resource.TestStep{
			{
				Config: r.config("", false),
				Check:  resource.ComposeTestCheckFunc(r.generate, r.w.startState(cidrsTable)),
			},
			{
				PreConfig: func() { r.backupStart = time.Now() },
				Config:    r.config("", true),
				Check: resource.ComposeTestCheckFunc(
					r.checkBackupTaken,
					r.checkWritesDuringBackup,
					r.checkNoPlaintext,
				),
			},
			{
				Config:      r.config("", true) + r.restoreConfig("copy", r.copy, "pxc_cluster.test.backup.key") + r.restoreConfig("wrong", r.wrongKey, `"not-the-key"`),
				ExpectError: regexp.MustCompile(`(?s)Restore From Backup Failed.*the\s+backup\s+key\s+is\s+wrong.*was\s+removed\s+from\s+the\s+cloud`),
			},
			{
				Config: r.config("", true) + r.restoreConfig("copy", r.copy, "pxc_cluster.test.backup.key"),
				Check: resource.ComposeTestCheckFunc(
					r.checkRestored,
					r.checkNothingNamed(r.wrongKey),
				),
			},
			{
				PreConfig:   func() { r.flipStoredByte(t) },
				Config:      r.config("", true) + r.restoreConfig("copy", r.copy, "pxc_cluster.test.backup.key") + r.restoreConfig("corrupt", r.corrupt, "pxc_cluster.test.backup.key"),
				ExpectError: regexp.MustCompile(`(?s)Restore From Backup Failed.*could\s+not\s+be\s+read\s+back\s+intact.*was\s+removed\s+from\s+the\s+cloud`),
			},
			{
				// The restored cluster is destroyed; the pxc_backup leaves
				// the configuration but stays in the store
				// (retain_on_destroy); the schedule's retention of 1 prunes
				// it once a scheduled backup is verified.
				PreConfig: func() { r.flipStoredByte(t) },
				Config:    r.config(`schedule = "15s"`+"\n    retention = 1", false),
				Check: resource.ComposeTestCheckFunc(
					r.checkNothingNamed(r.corrupt),
					r.waitScheduledPrune,
				),
			},
			{
				Config: r.config(`schedule = "15s"`+"\n    retention = 1", false) + `
data "pxc_backups" "all" {
  cluster_id      = pxc_cluster.test.id
  backup          = pxc_cluster.test.backup
  root_password   = pxc_cluster.test.root_password
  ssh_private_key = pxc_cluster.test.generated_private_key
}
`,
				Check: r.checkListed,
			},
		},
	})
}

// config is the source cluster with its backup block (extra inside it)
// behind a single-writer pool, and the pxc_backup when withBackup.
func (r *backupRun) config(extra string, withBackup bool) string {
	block := fmt.Sprintf(`  backup = {
    container = %q
    auth_url  = %q
    %s
  }`, r.container, r.authURL, extra)
	cfg := strings.Replace(r.lc.cidrsConfig(r.src), "resource \"pxc_cluster\" \"test\" {", "resource \"pxc_cluster\" \"test\" {\n"+block, 1)
	if withBackup {
		cfg += `
resource "pxc_backup" "b1" {
  cluster_id        = pxc_cluster.test.id
  backup            = pxc_cluster.test.backup
  root_password     = pxc_cluster.test.root_password
  ssh_private_key   = pxc_cluster.test.generated_private_key
  retain_on_destroy = true
}
`
	}
	return cfg
}

// restoreConfig is a cluster named name restored from the pxc_backup's id
// with the key expression given.
func (r *backupRun) restoreConfig(resourceName, name, key string) string {
	restore := fmt.Sprintf(`  restore_from = {
    backup_id = pxc_backup.b1.id
    container = %q
    auth_url  = %q
    key       = %s
  }`, r.container, r.authURL, key)
	cfg := r.lc.accClusterConfig(name, restore)
	return strings.Replace(cfg, `resource "pxc_cluster" "test"`, `resource "pxc_cluster" "`+resourceName+`"`, 1)
}

func (r *backupRun) rootDB(s *terraform.State, res string, node int) (*sql.DB, error) {
	return r.rootDBWaiting(s, res, node, 10*time.Second)
}

// rootDBWaiting is rootDB with a read timeout for long statements.
func (r *backupRun) rootDBWaiting(s *terraform.State, res string, node int, readTimeout time.Duration) (*sql.DB, error) {
	password, err := stateAttr(s, res, "root_password")
	if err != nil {
		return nil, err
	}
	ip, err := stateAttr(s, res, fmt.Sprintf("ips.%d", node))
	if err != nil {
		return nil, err
	}
	return openRootWaiting(net.JoinHostPort(ip, "3306"), password, readTimeout)
}

// generate writes ~100 MB into bk.t1..tN and the marker row, on node 1.
func (r *backupRun) generate(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Each insert is a ~25 MB write set, certified and replicated to both
	// other nodes before it returns: past openRoot's 10 s read timeout on a
	// loaded machine.
	db, err := r.rootDBWaiting(s, "pxc_cluster.test", 0, 2*time.Minute)
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	qs := []string{"CREATE DATABASE IF NOT EXISTS bk", "CREATE TABLE bk.marker (id INT PRIMARY KEY, note VARCHAR(64))",
		fmt.Sprintf("INSERT INTO bk.marker VALUES (1, '%s')", bkMarker)}
	for i := 1; i <= bkTables; i++ {
		qs = append(qs,
			fmt.Sprintf("CREATE TABLE bk.t%d (id INT PRIMARY KEY, payload VARCHAR(256))", i),
			fmt.Sprintf("INSERT INTO bk.t%d SELECT seq, REPEAT(SHA2(CONCAT(seq, '-%d'), 256), 4) FROM bk.seq_1_to_%d", i, i, bkRows))
	}
	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("generate data: %s: %w", q, err)
		}
	}
	// The rows' bytes (the tables' statistics lag behind a bulk insert).
	var mb float64
	for i := 1; i <= bkTables; i++ {
		var n float64
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT SUM(LENGTH(payload) + 4) / 1048576 FROM bk.t%d", i)).Scan(&n); err != nil {
			return err
		}
		mb += n
	}
	fmt.Printf("backup acc: generated %.0f MB in %s\n", mb, time.Since(t0).Round(time.Second))
	if mb < 80 {
		return fmt.Errorf("generated only %.0f MB", mb)
	}
	return nil
}

// checkBackupTaken: the pxc_backup reports itself verified, taken on a
// node that is not the writer, with a size; the generated tables'
// checksums are recorded (they do not change after).
func (r *backupRun) checkBackupTaken(s *terraform.State) error {
	attrs := map[string]string{}
	for _, k := range []string{"id", "node", "status", "size", "stored_size", "time", "sha256", "gtid_position", "source_cluster"} {
		v, err := stateAttr(s, "pxc_backup.b1", k)
		if err != nil {
			return err
		}
		attrs[k] = v
	}
	writer, err := stateAttr(s, "pxc_cluster.test", "writer")
	if err != nil {
		return err
	}
	fmt.Printf("backup acc: pxc_backup %v; writer %s; took %s\n", attrs, writer, time.Since(r.backupStart).Round(time.Second))
	switch {
	case attrs["status"] != "verified" || len(attrs["id"]) != 64 || len(attrs["sha256"]) != 64:
		return fmt.Errorf("pxc_backup.b1 is not a verified backup: %v", attrs)
	case attrs["node"] == "" || attrs["node"] == writer:
		return fmt.Errorf("backup taken on %q, the writer is %q: it must come from another node", attrs["node"], writer)
	case atoi(attrs["size"]) < 80<<20:
		return fmt.Errorf("backup size %s bytes: the generated data is ~100 MB", attrs["size"])
	}
	r.backupID = attrs["id"]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := r.rootDBWaiting(s, "pxc_cluster.test", 0, checksumReadTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	r.sums, err = checksums(ctx, db)
	return err
}

// checksumReadTimeout bounds one CHECKSUM TABLE of a ~25 MB table: it
// reads the whole table, which took past rootDB's 10 s read timeout on a
// restored node while four other clusters ran beside it ("invalid
// connection"). The sums are what the test asserts, not their speed.
const checksumReadTimeout = 2 * time.Minute

func checksums(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	if _, err := db.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		return nil, err
	}
	sums := map[string]int64{}
	tables := []string{"bk.marker"}
	for i := 1; i <= bkTables; i++ {
		tables = append(tables, fmt.Sprintf("bk.t%d", i))
	}
	for _, t := range tables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+t).Scan(&name, &sum); err != nil {
			return nil, fmt.Errorf("CHECKSUM TABLE %s: %w", t, err)
		}
		if !sum.Valid {
			return nil, fmt.Errorf("CHECKSUM TABLE %s: the table does not exist", t)
		}
		sums[t] = sum.Int64
	}
	return sums, nil
}

// checkWritesDuringBackup: no write through the VIP failed while the
// backup ran, none acknowledged is missing on any node, every node is
// Synced in a cluster of 3; the writes before and after the backup bound
// its position.
func (r *backupRun) checkWritesDuringBackup(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := r.w.stop()
	if log == nil {
		return fmt.Errorf("the write loop was not running")
	}
	if len(log.Failed) > 0 {
		var when []string
		for _, f := range log.Failed {
			when = append(when, f.Sub(r.backupStart).Round(100*time.Millisecond).String())
		}
		return fmt.Errorf("%d writes through the VIP failed while the backup ran, at %s after the apply began (first error: %v, last: %v)",
			len(log.Failed), strings.Join(when, " "), log.Errors[0], log.LastErr)
	}
	if _, ok := log.FirstAfter(r.backupStart); !ok {
		return fmt.Errorf("no write was acknowledged through the VIP during the backup")
	}
	gap, _ := log.LongestGap(r.backupStart)
	fmt.Printf("backup acc: %d writes through the VIP, 0 failed, longest gap %s\n", len(log.Acked), gap.Round(10*time.Millisecond))
	for _, w := range log.Acked {
		if w.At.Before(r.backupStart) && w.Seq > r.ackedBefore {
			r.ackedBefore = w.Seq
		}
	}
	r.ackedAfter = log.Acked[len(log.Acked)-1].Seq
	st, err := readCIDRsState(s)
	if err != nil {
		return err
	}
	for _, ip := range st.ips {
		if err := r.w.checkNode(ctx, ip, st.password, len(st.ips)); err != nil {
			return fmt.Errorf("after the backup: %w", err)
		}
	}
	return nil
}

// containerDir is where the local cloud keeps the container's objects.
func (r *backupRun) containerDir() (string, error) {
	recs, _ := filepath.Glob(filepath.Join(os.Getenv("LOCALCLOUD_DIR"), "swift", "*", "*", "container.json"))
	for _, f := range recs {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		var rec struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(b, &rec) == nil && rec.Name == r.container {
			return filepath.Dir(f), nil
		}
	}
	return "", fmt.Errorf("container %s not found on the local cloud's disk (%d containers)", r.container, len(recs))
}

// storedObjects are the container's objects by name, with their files.
func (r *backupRun) storedObjects() (map[string]string, error) {
	dir, err := r.containerDir()
	if err != nil {
		return nil, err
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "o-*.json"))
	out := map[string]string{}
	for _, f := range recs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // deleted meanwhile
		}
		var rec struct {
			Name     string `json:"name"`
			DataFile string `json:"data_file"`
		}
		if json.Unmarshal(b, &rec) == nil && rec.DataFile != "" {
			out[rec.Name] = filepath.Join(dir, rec.DataFile)
		}
	}
	return out, nil
}

// checkNoPlaintext: no stored object holds the marker row or a generated
// payload in plaintext.
func (r *backupRun) checkNoPlaintext(*terraform.State) error {
	objects, err := r.storedObjects()
	if err != nil {
		return err
	}
	var total int64
	for name, f := range objects {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		total += int64(len(b))
		if bytes.Contains(b, []byte(bkMarker)) {
			return fmt.Errorf("stored object %s holds the marker row in plaintext", name)
		}
	}
	fmt.Printf("backup acc: %d stored objects, %d bytes, no plaintext marker\n", len(objects), total)
	if len(objects) < 3 || total < 1<<20 {
		return fmt.Errorf("the container holds %d objects, %d bytes: no backup there", len(objects), total)
	}
	return nil
}

// checkRestored: the restored cluster has every generated table as the
// source had it, the marker row, and the write table exactly as the
// source's up to one write between the backup's start and end.
func (r *backupRun) checkRestored(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*checksumReadTimeout) // three nodes' sums
	defer cancel()
	id, err := stateAttr(s, "pxc_cluster.copy", "restore_from.backup_id")
	if err != nil || id != r.backupID {
		return fmt.Errorf("restore_from.backup_id = %q (%v), want %s", id, err, r.backupID)
	}
	src, err := r.rootDB(s, "pxc_cluster.test", 0)
	if err != nil {
		return err
	}
	defer src.Close()
	for i := 0; i < 3; i++ {
		db, err := r.rootDBWaiting(s, "pxc_cluster.copy", i, checksumReadTimeout)
		if err != nil {
			return err
		}
		defer db.Close()
		sums, err := checksums(ctx, db)
		if err != nil {
			return fmt.Errorf("restored node %d: %w", i+1, err)
		}
		for t, want := range r.sums {
			if sums[t] != want {
				return fmt.Errorf("restored node %d: CHECKSUM TABLE %s = %d, the source's %d", i+1, t, sums[t], want)
			}
		}
		var last int
		if err := db.QueryRowContext(ctx, "SELECT IFNULL(MAX(seq), 0) FROM "+cidrsTable).Scan(&last); err != nil {
			return fmt.Errorf("restored node %d: %w", i+1, err)
		}
		if last < r.ackedBefore || last > r.ackedAfter {
			return fmt.Errorf("restored node %d: the write table ends at %d, outside the backup's window [%d, %d]", i+1, last, r.ackedBefore, r.ackedAfter)
		}
		const digest = "SELECT COUNT(*), IFNULL(BIT_XOR(CRC32(CONCAT_WS('|', seq, node, at))), 0) FROM " + cidrsTable + " WHERE seq <= ?"
		var n1, n2 int
		var h1, h2 int64
		if err := db.QueryRowContext(ctx, digest, last).Scan(&n1, &h1); err != nil {
			return err
		}
		if err := src.QueryRowContext(ctx, digest, last).Scan(&n2, &h2); err != nil {
			return err
		}
		if n1 != n2 || h1 != h2 {
			return fmt.Errorf("restored node %d: the write table up to %d has %d rows (digest %d), the source %d (digest %d)", i+1, last, n1, h1, n2, h2)
		}
		if i == 0 {
			fmt.Printf("backup acc: restored cluster equals the source at write %d (window %d..%d)\n", last, r.ackedBefore, r.ackedAfter)
		}
	}
	return nil
}

// flipStoredByte flips one byte in the middle of the container's largest
// data pack (flipping twice restores it).
func (r *backupRun) flipStoredByte(t *testing.T) {
	objects, err := r.storedObjects()
	if err != nil {
		t.Fatal(err)
	}
	var largest string
	var size int64
	for name, f := range objects {
		if fi, err := os.Stat(f); err == nil && strings.HasPrefix(name, "data/") && fi.Size() > size {
			largest, size = f, fi.Size()
		}
	}
	if largest == "" {
		t.Fatal("no data object in the container")
	}
	flip(t, largest, size/2)
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

// snapshots are the restic snapshot ids stored in the container.
func (r *backupRun) snapshots() ([]string, error) {
	objects, err := r.storedObjects()
	if err != nil {
		return nil, err
	}
	var ids []string
	for name := range objects {
		if id, ok := strings.CutPrefix(name, "snapshots/"); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// waitScheduledPrune waits, with Terraform idle, until the nodes' job has
// stored a backup of its own and pruned the pxc_backup (retention 1).
func (r *backupRun) waitScheduledPrune(*terraform.State) error {
	deadline := time.Now().Add(4 * time.Minute)
	var ids []string
	var err error
	for time.Now().Before(deadline) {
		ids, err = r.snapshots()
		if err != nil {
			return err
		}
		pruned := true
		for _, id := range ids {
			if id == r.backupID {
				pruned = false
			}
		}
		if pruned && len(ids) > 0 {
			fmt.Printf("backup acc: scheduled backups %v; the pxc_backup was pruned\n", ids)
			return nil
		}
		time.Sleep(2 * time.Second)
	}
	return fmt.Errorf("after 4 minutes the container holds snapshots %v: the schedule did not back up and prune %s", ids, r.backupID)
}

// checkListed: pxc_backups lists the scheduled backups (at most two: one
// may be waiting for its prune), taken on a non-writer, and not the pruned
// pxc_backup.
func (r *backupRun) checkListed(s *terraform.State) error {
	n, err := stateAttr(s, "data.pxc_backups.all", "backups.#")
	if err != nil {
		return err
	}
	writer, err := stateAttr(s, "pxc_cluster.test", "writer")
	if err != nil {
		return err
	}
	count := atoi(n)
	if count != 1 && count != 2 {
		return fmt.Errorf("pxc_backups lists %s backups, want 1 (2 while a prune is pending) with retention 1", n)
	}
	for i := range count {
		id, _ := stateAttr(s, "data.pxc_backups.all", fmt.Sprintf("backups.%d.id", i))
		node, _ := stateAttr(s, "data.pxc_backups.all", fmt.Sprintf("backups.%d.node", i))
		if id == r.backupID {
			return fmt.Errorf("pxc_backups still lists the pruned backup %s", id)
		}
		if node == "" || node == writer {
			return fmt.Errorf("scheduled backup %s taken on %q, the writer is %q", id, node, writer)
		}
	}
	return nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// checkNothingNamed: no cloud object carries any of the cluster names.
func (r *backupRun) checkNothingNamed(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		raw := string(r.lc.admin(r.t, http.MethodGet, "/inventory", nil))
		for _, n := range names {
			if strings.Contains(raw, n) {
				return fmt.Errorf("the local cloud still holds objects of cluster %s", n)
			}
		}
		return nil
	}
}
