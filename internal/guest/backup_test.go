package guest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	testRepoPassword = "repo-key-'\"\\-secret"
	testAppSecret    = "app-cred-secret-value"
)

func testRepository() BackupRepository {
	return BackupRepository{
		Repository: "swift:backups:/prod-db",
		Password:   testRepoPassword,
		Env: map[string]string{
			"OS_AUTH_URL":                      "http://10.210.0.1:5000/identity/v3",
			"OS_APPLICATION_CREDENTIAL_ID":     "0123abcd",
			"OS_APPLICATION_CREDENTIAL_SECRET": testAppSecret,
		},
	}
}

// stdinRecorder is a recorder that also keeps what each command got on stdin.
type stdinRecorder struct {
	*recorder
	stdin []string
	fail  string // a command containing this fails, quoting fail's stdin
}

func (s *stdinRecorder) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	s.stdin = append(s.stdin, string(stdin))
	if s.fail != "" && strings.Contains(cmd, s.fail) {
		s.recorder.Run(ctx, cmd, stdin)
		// restic may quote its environment in an error; it must not leak.
		return nil, &CommandError{Command: cmd, ExitCode: 1, Stderr: "Fatal: auth failed for " + string(stdin)}
	}
	return s.recorder.Run(ctx, cmd, stdin)
}

// restic 0.14's summary names the snapshot by its short id.
const testSummary = `{"message_type":"summary","files_new":1,"data_added":4096,"total_bytes_processed":104857600,"snapshot_id":"5f0c1e9a"}`
const testSnapshotList = `[{"time":"2026-12-02T10:00:00Z","hostname":"prod-db","tags":["cluster=prod-db","node=db2"],"id":"5f0c1e9a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6","short_id":"5f0c1e9a"}]`
const testSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// backupCluster is a Percona 8.0 cluster of recorders whose status says
// every node is Synced and db1 is the writer.
func backupCluster(t *testing.T, healthy map[string]bool) (*Cluster, map[string]*stdinRecorder) {
	t.Helper()
	spec := testSpec(Percona, "8.0", "")
	recs := map[string]*stdinRecorder{}
	for i := range spec.Nodes {
		r := &stdinRecorder{recorder: &recorder{}}
		r.on("restic backup", "sha256 "+testSHA+"\n"+testSummary+"\n")
		r.on("restic dump", testSnapshotList)
		recs[spec.Nodes[i].Name] = r
		spec.Nodes[i].Runner = r
	}
	c, err := New(spec, WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	incoming := []string{"10.210.0.11:3306", "10.210.0.12:3306", "10.210.0.13:3306"}
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		st := NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: 3, ClusterStatus: "Primary",
			LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 3, IncomingAddresses: incoming,
			RecordedWriter: "10.210.0.11"}
		if healthy != nil && !healthy[n.Name] {
			st.LocalState = "Donor/Desynced"
		}
		return st, nil
	}
	return c, recs
}

// TestPerconaBackupSequence checks the commands a Percona backup sends: on
// the first Synced non-writer only, xtrabackup streaming xbstream through a
// hash into restic with the cluster's tags, then a read-back of the same
// snapshot; credentials only on stdin.
func TestPerconaBackupSequence(t *testing.T) {
	c, recs := backupCluster(t, nil)
	info, err := c.Backup(context.Background(), testRepository(), BackupOptions{CheckSubset: "10%"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Node != "db2" || info.Cluster != "prod-db" || info.SHA256 != testSHA || info.Bytes != 104857600 || info.Added != 4096 || len(info.ID) != 64 || info.Time.Day() != 2 {
		t.Errorf("backup info %+v", info)
	}
	if n := len(recs["db1"].commands()) + len(recs["db3"].commands()); n != 0 {
		t.Errorf("the writer or a later node ran %d commands: %q %q", n, recs["db1"].commands(), recs["db3"].commands())
	}
	cmds := recs["db2"].commands()
	if len(cmds) != 2 {
		t.Fatalf("db2 ran %d commands, want backup and verify: %q", len(cmds), cmds)
	}
	wantInOrder(t, cmds[0],
		"set -euo pipefail",
		"restic cat config >/dev/null 2>&1 || restic init",
		"xtrabackup --defaults-extra-file=/root/.my.cnf --backup --galera-info --stream=xbstream",
		`tee "$tmp/stream"`,
		"restic backup --json --stdin --stdin-filename '\\''prod-db.xbstream'\\'' --host '\\''prod-db'\\'' --tag '\\''cluster=prod-db'\\'' --tag '\\''node=db2'\\''",
	)
	if strings.Contains(cmds[0], "mariabackup") {
		t.Errorf("percona backup uses mariabackup: %s", cmds[0])
	}
	wantInOrder(t, cmds[1], "restic dump '\\''5f0c1e9a'\\'' '\\''/prod-db.xbstream'\\'' | sha256sum", testSHA, "restic check --read-data-subset='\\''10%'\\''", "restic snapshots --json '\\''5f0c1e9a'\\''")
	for i, cmd := range cmds {
		for _, secret := range []string{testRepoPassword, testAppSecret} {
			if strings.Contains(cmd, secret) {
				t.Errorf("command %d carries a secret on its command line", i)
			}
		}
		stdin := recs["db2"].stdin[i]
		for _, line := range []string{"RESTIC_REPOSITORY=swift:backups:/prod-db\n", "RESTIC_PASSWORD=" + testRepoPassword + "\n", "OS_APPLICATION_CREDENTIAL_SECRET=" + testAppSecret + "\n"} {
			if !strings.Contains(stdin, line) {
				t.Errorf("command %d: stdin lacks %q", i, line)
			}
		}
		if !strings.HasSuffix(stdin, "\n\n") {
			t.Errorf("command %d: stdin does not end the environment with an empty line", i)
		}
	}
}

func wantInOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if i < 0 {
			t.Errorf("missing (in order) %q in:\n%s", p, s)
			return
		}
		at += i + len(p)
	}
}

func TestBackupSourceAvoidsWriterAndUnsynced(t *testing.T) {
	ctx := context.Background()
	// db2 is a donor: db3 is the only Synced non-writer.
	c, recs := backupCluster(t, map[string]bool{"db1": true, "db3": true})
	info, err := c.Backup(ctx, testRepository(), BackupOptions{})
	if err != nil || info.Node != "db3" {
		t.Fatalf("backup from %q (%v), want db3", info.Node, err)
	}
	if len(recs["db2"].commands()) != 0 {
		t.Errorf("the desynced node ran %q", recs["db2"].commands())
	}
	// Only the writer is Synced: no source, nothing runs.
	c, recs = backupCluster(t, map[string]bool{"db1": true})
	if _, err := c.Backup(ctx, testRepository(), BackupOptions{}); err == nil || !strings.Contains(err.Error(), "no Synced node other than the writer") {
		t.Errorf("backup with only the writer Synced: %v", err)
	}
	for name, r := range recs {
		if len(r.commands()) != 0 {
			t.Errorf("%s ran %q", name, r.commands())
		}
	}
	// Asking for the writer is refused.
	c, _ = backupCluster(t, nil)
	if _, err := c.Backup(ctx, testRepository(), BackupOptions{Node: "db1"}); err == nil || !strings.Contains(err.Error(), "db1 is the writer") {
		t.Errorf("backup of the writer: %v", err)
	}
}

func TestBackupErrorsAreMasked(t *testing.T) {
	c, recs := backupCluster(t, nil)
	recs["db2"].fail = "restic backup"
	_, err := c.Backup(context.Background(), testRepository(), BackupOptions{})
	var ce *CommandError
	if err == nil || !errors.As(err, &ce) {
		t.Fatalf("want a command error, got %v", err)
	}
	for _, secret := range []string{testRepoPassword, testAppSecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(ce.Stderr, secret) {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
	if !strings.Contains(err.Error(), "***") {
		t.Errorf("error not masked: %v", err)
	}
}

func TestBackupRepositoryValidate(t *testing.T) {
	good := testRepository()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*BackupRepository){
		"no password":       func(r *BackupRepository) { r.Password = "" },
		"local repository":  func(r *BackupRepository) { r.Repository = "/srv/backups" },
		"quote in repo":     func(r *BackupRepository) { r.Repository = "swift:a'b:/x" },
		"newline in value":  func(r *BackupRepository) { r.Env = map[string]string{"OS_PASSWORD": "a\nRESTIC_PASSWORD=x"} },
		"lower-case key":    func(r *BackupRepository) { r.Env = map[string]string{"os_password": "x"} },
		"key with =":        func(r *BackupRepository) { r.Env = map[string]string{"A=B": "x"} },
		"newline in secret": func(r *BackupRepository) { r.Password = "a\nb" },
	} {
		r := testRepository()
		mod(&r)
		err := r.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), testRepoPassword) || strings.Contains(err.Error(), "RESTIC_PASSWORD=x") {
			t.Errorf("%s: error leaks a value: %v", name, err)
		}
	}
}

// TestPerconaRestoreSequence checks a Percona restore: refuse a running
// server or a non-empty datadir, then restic dump | xbstream -x, prepare,
// move back, chown; clean up on failure.
func TestPerconaRestoreSequence(t *testing.T) {
	r := &stdinRecorder{recorder: &recorder{}}
	id := "5f0c1e9a2b3c4d5e"
	if err := RestoreBackup(context.Background(), r, RestoreRequest{Repository: testRepository(), SnapshotID: id, Cluster: "prod-db", Flavour: Percona}); err != nil {
		t.Fatal(err)
	}
	cmds := r.commands()
	if len(cmds) != 1 {
		t.Fatalf("want one script, got %q", cmds)
	}
	wantInOrder(t, cmds[0],
		"pgrep -x mariadbd", "exit 3",
		"is not empty; refusing to overwrite it", "exit 3",
		"trap cleanup EXIT",
		"restic dump '\\''"+id+"'\\'' '\\''/prod-db.xbstream'\\'' | xbstream -x -C \"$work/data\"",
		`xtrabackup --prepare --target-dir="$work/data"`,
		`xtrabackup --move-back --target-dir="$work/data" --datadir="$datadir"`,
		`chown -R mysql:mysql "$datadir"`,
	)
	if strings.Contains(cmds[0], "mbstream") || strings.Contains(cmds[0], "mariabackup") || strings.Contains(cmds[0], testRepoPassword) {
		t.Errorf("restore script: %s", cmds[0])
	}
	for _, bad := range []RestoreRequest{
		{Repository: testRepository(), SnapshotID: "latest; rm -rf /", Cluster: "prod-db", Flavour: Percona},
		{Repository: testRepository(), SnapshotID: id, Cluster: "prod db", Flavour: Percona},
		{Repository: testRepository(), SnapshotID: id, Cluster: "prod-db", Flavour: "oracle"},
	} {
		if err := RestoreBackup(context.Background(), r, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if len(r.commands()) != 1 {
		t.Errorf("a refused request ran commands: %q", r.commands()[1:])
	}
}

func TestPruneArgsKeepByCountAndAge(t *testing.T) {
	for _, tc := range []struct {
		r    Retention
		want string
	}{
		{Retention{Keep: 7}, "--group-by host --keep-last 7"},
		{Retention{KeepDays: 30}, "--group-by host --keep-within 30d"},
		{Retention{Keep: 3, KeepDays: 14}, "--group-by host --keep-last 3 --keep-within 14d"},
	} {
		if got := pruneArgs("prod-db", tc.r); !strings.HasSuffix(got, tc.want) {
			t.Errorf("%+v: %q, want it to end %q", tc.r, got, tc.want)
		}
	}
	for _, bad := range []Retention{{}, {Keep: -1, KeepDays: 3}, {Keep: 2, KeepDays: -1}} {
		if bad.validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPruneBackupsSequence(t *testing.T) {
	c, recs := backupCluster(t, nil)
	ctx := context.Background()
	if err := c.PruneBackups(ctx, testRepository(), Retention{}); err == nil {
		t.Error("keep 0 accepted")
	}
	if err := c.PruneBackups(ctx, testRepository(), Retention{Keep: 7}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBackup(ctx, testRepository(), "5f0c1e9a"); err != nil {
		t.Fatal(err)
	}
	cmds := recs["db1"].commands()
	if len(cmds) != 4 {
		t.Fatalf("db1 ran %q", cmds)
	}
	wantInOrder(t, cmds[1], "restic forget --prune --tag '\\''cluster=prod-db'\\'' --group-by host --keep-last 7")
	if strings.Contains(cmds[1], "--keep-within") {
		t.Errorf("a count-only retention pruned by age too: %q", cmds[1])
	}
	wantInOrder(t, cmds[3], "restic forget --prune '\\''5f0c1e9a'\\''")
}

func TestParseSnapshots(t *testing.T) {
	out := `[{"time":"2026-12-02T10:00:00.5+01:00","tree":"ab","paths":["/prod-db.xbstream"],"hostname":"prod-db","tags":["cluster=prod-db","node=db3"],"id":"bb","short_id":"bb"},
{"time":"2026-12-01T10:00:00Z","paths":["/prod-db.xbstream"],"hostname":"prod-db","tags":["cluster=prod-db","node=db2"],"id":"aa","short_id":"aa"}]`
	list, err := parseSnapshots(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "aa" || list[0].Node != "db2" || list[1].Node != "db3" || list[1].Cluster != "prod-db" || list[1].Time.Hour() != 9 {
		t.Errorf("parsed %+v", list)
	}
	if _, err := parseSnapshots("Fatal: wrong password"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestRunLockedWaitsForTheLock(t *testing.T) {
	calls := 0
	run := func(ctx context.Context, cmd string, stdin []byte) (string, error) {
		calls++
		if calls < 3 {
			return "", &CommandError{Command: cmd, ExitCode: 1, Stderr: "unable to create lock in backend: repository is already locked exclusively by PID 837"}
		}
		return "ok", nil
	}
	if out, err := runLocked(context.Background(), run, "restic snapshots", nil, time.Millisecond); err != nil || out != "ok" || calls != 3 {
		t.Errorf("runLocked: %q %v after %d calls", out, err, calls)
	}
	calls = 0
	other := func(ctx context.Context, cmd string, stdin []byte) (string, error) {
		calls++
		return "", errors.New("wrong password or no key found")
	}
	if _, err := runLocked(context.Background(), other, "restic snapshots", nil, time.Millisecond); err == nil || calls != 1 {
		t.Errorf("another error was retried: %v after %d calls", err, calls)
	}
}

// TestSeedFromBackupSequence: the first node only is made ready and
// restored with the flavour's tools; a re-run after the restore finished
// restores nothing.
func TestSeedFromBackupSequence(t *testing.T) {
	c, recs := backupCluster(t, nil)
	for _, r := range recs {
		r.on("echo present", "present\n")
	}
	ctx := context.Background()
	id := "5f0c1e9a2b3c4d5e"
	if err := c.SeedFromBackup(ctx, testRepository(), id, "old-db"); err != nil {
		t.Fatal(err)
	}
	if n := len(recs["db2"].commands()) + len(recs["db3"].commands()); n != 0 {
		t.Errorf("nodes other than the first ran %d commands", n)
	}
	cmds := strings.Join(recs["db1"].commands(), "\n")
	wantInOrder(t, cmds, "/run/systemd/system", "echo present", "cat /var/lib/mysql/.pxc-restored",
		"restic dump '\\''"+id+"'\\'' '\\''/old-db.xbstream'\\'' | xbstream -x", "xtrabackup --prepare", "xtrabackup --move-back",
		"echo '\\''"+id+"'\\'' >\"$datadir/.pxc-restored\"")
	again := &stdinRecorder{recorder: (&recorder{}).on("echo present", "present\n").on(".pxc-restored", id+"\n")}
	c.nodes()[0].runner = maskingRunner{r: again, m: c.mask}
	if err := c.SeedFromBackup(ctx, testRepository(), id, "old-db"); err != nil {
		t.Fatal(err)
	}
	if cmds := strings.Join(again.commands(), "\n"); strings.Contains(cmds, "restic") {
		t.Errorf("a finished restore ran again:\n%s", cmds)
	}
}
