package guest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The job's shell and BackupNode must pick the same node for every view
// of the primary component and recorded writer, and never the writer.
func TestBackupNodeShellAgreesWithBackupNode(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	members := []Node{{Name: "db-1", Address: "10.0.0.1"}, {Name: "db-2", Address: "10.0.0.2"}, {Name: "db-10", Address: "10.0.0.10"}}
	const all = "10.0.0.1:3306,10.0.0.2:3306,10.0.0.10:3306"
	cases := []struct{ recorded, incoming, want string }{
		{"10.0.0.1", all, "10.0.0.2"},
		{"10.0.0.2", all, "10.0.0.1"},                             // a sticky writer other than node 1
		{"", all, "10.0.0.1"},                                     // no writer recorded (no responder)
		{"10.0.0.1", "10.0.0.10:3306,10.0.0.1:3306", "10.0.0.10"}, // db-2 left
		{"10.0.0.2", "10.0.0.1:3306,10.0.0.10:3306", "10.0.0.1"},  // the writer left
		{"10.0.0.10", "10.0.0.10:3306", ""},                       // alone: only the writer
		{"10.0.0.1", "10.0.0.100:3306,10.0.0.1:3306", ""},         // 10.0.0.10 is not a prefix match
		{"10.0.0.9", all, "10.0.0.1"},                             // a record naming no member
		{"", "", ""},
	}
	var order []string
	for _, m := range members {
		order = append(order, m.Address)
	}
	for _, tc := range cases {
		got := ""
		if n, ok := BackupNode(members, tc.recorded, tc.incoming); ok {
			got = n.Address
		}
		if got != tc.want {
			t.Errorf("BackupNode(%q, %q) = %q, want %q", tc.recorded, tc.incoming, got, tc.want)
		}
		script := "MEMBERS=" + shellQuote(strings.Join(order, " ")) + "\nrecorded=" + shellQuote(tc.recorded) +
			"\nincoming=" + shellQuote(tc.incoming) + "\n" + backupNodeShell + "\nprintf %s \"$backup_node\""
		out, err := exec.Command("bash", "-c", script).Output()
		if err != nil {
			t.Fatalf("bash: %v", err)
		}
		if string(out) != tc.want {
			t.Errorf("backupNodeShell with %q, %q picks %q, BackupNode %q", tc.recorded, tc.incoming, out, tc.want)
		}
	}
}

// jobSandbox runs a node's rendered job with stand-in mariadb,
// mariabackup and restic on PATH; restic records its calls.
func jobSandbox(t *testing.T, c *Cluster, self int, recorded, row, dumped string) (calls string, err error) {
	t.Helper()
	dir := t.TempDir()
	stub := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub("mariadb", `case "$*" in *pxc_guest.writer*) echo `+shellQuote(recorded)+`;; *) printf '%s\n' `+shellQuote(row)+`;; esac
`)
	stub("mariabackup", "echo xbstream-bytes\n")
	stub("restic", `echo "restic $* [pw=$RESTIC_PASSWORD]" >>`+dir+`/calls
case "$2" in
  backup) cat >/dev/null; echo '{"message_type":"status"}'; echo '{"message_type":"summary","snapshot_id":"abcd1234","total_bytes_processed":15}';;
  dump) echo `+shellQuote(dumped)+`;;
esac
`)
	env := filepath.Join(dir, "env")
	if err := os.WriteFile(env, testRepository().stdin(), 0o600); err != nil {
		t.Fatal(err)
	}
	members := c.Spec().Nodes
	script := c.renderBackupJob(members, members[self], Retention{Keep: 3})
	script = strings.ReplaceAll(script, backupJobEnv, env)
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("job on %s:\n%s", members[self].Name, out)
	b, _ := os.ReadFile(filepath.Join(dir, "calls"))
	return string(b), err
}

func TestBackupJobRunsOnOneNode(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	c, _ := backupCluster(t, nil)
	c.spec.Flavour, c.layout = MariaDB, layoutFor(testSpec(MariaDB, "10.11", ""))
	all := "Primary\tSynced\t10.210.0.11:3306,10.210.0.12:3306,10.210.0.13:3306"
	// db1 is the writer, db3 not the first non-writer: both skip.
	for _, self := range []int{0, 2} {
		calls, err := jobSandbox(t, c, self, "10.210.0.11", all, "xbstream-bytes")
		if err != nil || calls != "" {
			t.Errorf("node %d: restic calls %q (%v), want none", self+1, calls, err)
		}
	}
	calls, err := jobSandbox(t, c, 1, "10.210.0.11", all, "xbstream-bytes")
	if err != nil {
		t.Fatal(err)
	}
	wantInOrder(t, calls,
		"restic --no-cache cat config [pw="+testRepoPassword+"]",
		"restic --no-cache backup --json --stdin --stdin-filename prod-db.xbstream --host prod-db --tag cluster=prod-db --tag node=db2",
		"restic --no-cache dump abcd1234 /prod-db.xbstream",
		"restic --no-cache forget --prune --tag cluster=prod-db --group-by host --keep-last 3",
	)
	// A read-back that differs: the job fails and prunes nothing.
	calls, err = jobSandbox(t, c, 1, "10.210.0.11", all, "other-bytes")
	if err == nil || strings.Contains(calls, "forget") {
		t.Errorf("job with a bad read-back: %v, calls %q", err, calls)
	}
	// db2 a donor: nobody backs up this round.
	calls, err = jobSandbox(t, c, 1, "10.210.0.11", "Primary\tDonor/Desynced\t10.210.0.11:3306,10.210.0.12:3306,10.210.0.13:3306", "")
	if err != nil || calls != "" {
		t.Errorf("donor: calls %q (%v)", calls, err)
	}
	// db1 gone, db2 claimed the writer: db3 backs up.
	calls, err = jobSandbox(t, c, 2, "10.210.0.12", "Primary\tSynced\t10.210.0.12:3306,10.210.0.13:3306", "xbstream-bytes")
	if err != nil || !strings.Contains(calls, "node=db3") {
		t.Errorf("db1 gone: db3's calls %q (%v)", calls, err)
	}
	// Server down or non-Primary: skipped.
	calls, err = jobSandbox(t, c, 1, "10.210.0.11", "non-Primary\tInitialized\t", "")
	if err != nil || calls != "" {
		t.Errorf("non-Primary: calls %q (%v)", calls, err)
	}
}

func TestEnsureBackupScheduleSequence(t *testing.T) {
	c, recs := backupCluster(t, nil)
	ctx := context.Background()
	for _, bad := range []BackupSchedule{
		{Repository: testRepository(), Interval: time.Second, Keep: 7},
		{Repository: testRepository(), Interval: time.Hour, Keep: 0},
		{Repository: BackupRepository{Repository: "swift:x:/y"}, Interval: time.Hour, Keep: 7},
	} {
		if err := c.EnsureBackupSchedule(ctx, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	for _, r := range recs {
		r.on("/run/systemd/system", "systemd\n")
	}
	if err := c.EnsureBackupSchedule(ctx, BackupSchedule{Repository: testRepository(), Interval: 24 * time.Hour, Keep: 7}); err != nil {
		t.Fatal(err)
	}
	for name, r := range recs {
		if got := r.uploads[backupJobEnv]; got != string(testRepository().stdin()) {
			t.Errorf("%s: env file %q", name, got)
		}
		cmds := strings.Join(r.commands(), "\n")
		wantInOrder(t, cmds, "UPLOAD "+backupJobEnv+" 0600", "UPLOAD "+backupJobScript+" 0700", "UPLOAD "+backupTimerUnit+" 0644",
			"systemctl daemon-reload && systemctl enable pxc-backup.timer && systemctl restart pxc-backup.timer")
		if !strings.Contains(r.uploads[backupTimerUnit], "OnUnitActiveSec=86400s") {
			t.Errorf("%s: timer %q", name, r.uploads[backupTimerUnit])
		}
		if strings.Contains(cmds, testRepoPassword) || strings.Contains(r.uploads[backupJobScript], testRepoPassword) {
			t.Errorf("%s: a secret outside the env file", name)
		}
	}
}
