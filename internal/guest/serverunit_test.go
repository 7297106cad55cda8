package guest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// freshStartCommand is the command a drop-in's directive (ExecStartPre or
// ExecStart) runs, as sh runs it (systemd's "$$" is a literal "$"), with
// the guest's paths moved under dir and the recovery pass replaced by
// recover, the server by dir/mariadbd.
func freshStartCommand(t *testing.T, unit, directive, dir, recover string) string {
	t.Helper()
	var line string
	for l := range strings.SplitSeq(unit, "\n") {
		if strings.HasPrefix(l, directive+"=/bin/sh -c ") {
			line = l
		}
	}
	cmd, ok := strings.CutPrefix(line, directive+`=/bin/sh -c "`)
	if !ok || !strings.HasSuffix(cmd, `"`) {
		t.Fatalf("no %s command in the drop-in:\n%s", directive, unit)
	}
	cmd = strings.TrimSuffix(cmd, `"`)
	cmd = strings.ReplaceAll(cmd, "$$", "$")
	cmd = strings.ReplaceAll(cmd, dataDir, filepath.Join(dir, "datadir"))
	cmd = strings.ReplaceAll(cmd, runDir, filepath.Join(dir, "run"))
	cmd = strings.ReplaceAll(cmd, "/usr/sbin/mariadbd", filepath.Join(dir, "mariadbd"))
	return strings.ReplaceAll(cmd, "/usr/bin/galera_recovery", recover)
}

// freshStartCase is one datadir a drop-in's command starts on.
type freshStartCase struct {
	name      string
	files     []string // in the datadir
	recoverOK bool
	want      string // the position the server gets; "" with wantErr
	wantPass  bool
	wantErr   bool
}

var freshStartCases = []freshStartCase{
	{name: "fresh datadir", want: ""},
	{name: "galera ran", files: []string{"grastate.dat"}, recoverOK: true, wantPass: true,
		want: "--wsrep_start_position=8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:17"},
	{name: "restored backup", files: []string{restoredMarker}, recoverOK: true, wantPass: true,
		want: "--wsrep_start_position=8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:17"},
	{name: "recovery fails", files: []string{"grastate.dat"}, wantPass: true, wantErr: true},
}

// runFreshStart runs a drop-in's command on tc's datadir under a fresh
// directory; it returns the directory and whether the recovery pass ran.
func runFreshStart(t *testing.T, tc freshStartCase, unit, directive string, env ...string) (dir string, passRan bool) {
	t.Helper()
	dir = t.TempDir()
	for _, d := range []string{"datadir", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range tc.files {
		if err := os.WriteFile(filepath.Join(dir, "datadir", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ran := filepath.Join(dir, "recovery-ran")
	exit := "exit 1"
	if tc.recoverOK {
		exit = "echo --wsrep_start_position=8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:17"
	}
	recover := filepath.Join(dir, "galera_recovery")
	if err := os.WriteFile(recover, []byte("#!/bin/sh\ntouch "+ran+"\n"+exit+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The server records the arguments it was started with.
	server := "#!/bin/sh\necho \"$*\" > " + filepath.Join(dir, "server-args") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "mariadbd"), []byte(server), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", freshStartCommand(t, unit, directive, dir, recover))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if (err != nil) != tc.wantErr {
		t.Fatalf("exit: %v, want error %v; output %s", err, tc.wantErr, out)
	}
	_, statErr := os.Stat(ran)
	return dir, statErr == nil
}

// TestFreshStartSkipsRecoveryOnlyOnANeverRunDatadir: the drop-in's
// ExecStartPre (for Debian's units up to 10.11.18) hands the server an
// empty start position without the --wsrep-recover pass only where Galera
// never ran (no grastate.dat, no restored backup); anywhere else it runs
// the pass, passes its position on and fails the start when the pass
// fails, as Debian's unit does.
func TestFreshStartSkipsRecoveryOnlyOnANeverRunDatadir(t *testing.T) {
	for _, tc := range freshStartCases {
		t.Run(tc.name, func(t *testing.T) {
			dir, passRan := runFreshStart(t, tc, freshStartPreUnit(), "ExecStartPre")
			if passRan != tc.wantPass {
				t.Errorf("recovery pass ran: %v, want %v", passRan, tc.wantPass)
			}
			if tc.wantErr {
				return
			}
			got, err := os.ReadFile(filepath.Join(dir, "run", "wsrep-start-position"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "_WSREP_START_POSITION=" + tc.want + "\n"; string(got) != want {
				t.Errorf("position file %q, want %q", got, want)
			}
		})
	}
}

// TestFreshStartExecSkipsRecoveryOnlyOnANeverRunDatadir: the same rule for
// Debian's units from 10.11.19, whose ExecStart runs the pass and execs
// the server: the drop-in's ExecStart starts the server with the unit's
// options, the bootstrap flag galera_new_cluster sets and the position the
// pass found, none on a fresh datadir; a failed pass starts no server.
func TestFreshStartExecSkipsRecoveryOnlyOnANeverRunDatadir(t *testing.T) {
	for _, tc := range freshStartCases {
		t.Run(tc.name, func(t *testing.T) {
			dir, passRan := runFreshStart(t, tc, freshStartExecUnit(), "ExecStart",
				"MYSQLD_OPTS=--skip-name-resolve", "_WSREP_NEW_CLUSTER=--wsrep-new-cluster")
			if passRan != tc.wantPass {
				t.Errorf("recovery pass ran: %v, want %v", passRan, tc.wantPass)
			}
			got, err := os.ReadFile(filepath.Join(dir, "server-args"))
			if tc.wantErr {
				if err == nil {
					t.Errorf("the server started after a failed pass, with %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSpace("--skip-name-resolve --wsrep-new-cluster "+tc.want) + "\n"; string(got) != want {
				t.Errorf("server started with %q, want %q", got, want)
			}
		})
	}
}

// Debian's mariadb.service, the lines that start the server, in the two
// forms freshStartScript recognises.
const (
	debianUnitPositionFile = `[Service]
EnvironmentFile=-/run/mysqld/wsrep-new-cluster
EnvironmentFile=-/run/mysqld/wsrep-start-position
ExecStartPre=/bin/sh -c "[ ! -e /usr/bin/galera_recovery ] && VAR= || \\
 VAR=` + "`/usr/bin/galera_recovery`" + `; [ $? -eq 0 ] \\
 && echo _WSREP_START_POSITION=$VAR > /run/mysqld/wsrep-start-position || exit 1"
ExecStart=/usr/sbin/mariadbd $MYSQLD_OPTS $_WSREP_NEW_CLUSTER $_WSREP_START_POSITION
`
	debianUnitInline = `[Service]
EnvironmentFile=-/run/mariadb-wsrep-new-cluster
ExecStart=/bin/sh -c "set -f; [ ! -e /usr/bin/galera_recovery ] && VAR= || \\
 VAR=` + "`/usr/bin/galera_recovery`" + `; [ $? -eq 0 ] || exit 1; \\
 exec /usr/sbin/mariadbd $MYSQLD_OPTS $_WSREP_NEW_CLUSTER $VAR"
`
)

// TestFreshStartScriptRecognisesDebiansUnits: the script installs the
// drop-in that replaces the command of the unit it finds, and none for a
// unit that runs no pass or runs it in a way it does not know.
func TestFreshStartScriptRecognisesDebiansUnits(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
		want       string // the drop-in; "" for none
	}{
		{"up to 10.11.18: ExecStartPre writes the position file", debianUnitPositionFile, freshStartPreUnit()},
		{"from 10.11.19: ExecStart runs the pass", debianUnitInline, freshStartExecUnit()},
		{"no galera_recovery", "[Service]\nExecStart=/usr/sbin/mariadbd $MYSQLD_OPTS\n", ""},
		{"another way to run the pass", "[Service]\nExecStart=/bin/sh -c \"exec /usr/sbin/mariadbd $(/usr/bin/galera_recovery)\"\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			unit, dropIn := filepath.Join(dir, "mariadb.service"), filepath.Join(dir, "run", "mariadb.service.d", "pxc-fresh-start.conf")
			if err := os.WriteFile(unit, []byte(tc.unit), 0o644); err != nil {
				t.Fatal(err)
			}
			script := strings.ReplaceAll(freshStartScript(), "/usr/lib/systemd/system/mariadb.service", unit)
			script = strings.ReplaceAll(script, "/lib/systemd/system/mariadb.service", unit)
			script = strings.ReplaceAll(script, freshStartDropIn, dropIn)
			script = strings.ReplaceAll(script, path.Dir(freshStartDropIn), filepath.Dir(dropIn))
			out, err := exec.Command("sh", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got, err := os.ReadFile(dropIn)
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("installed a drop-in for a unit it does not know:\n%s", got)
			case tc.want == "" && strings.Contains(string(out), "installed"):
				t.Errorf("said installed without a drop-in: %s", out)
			case tc.want != "" && err != nil:
				t.Errorf("no drop-in (%v); output %s", err, out)
			case tc.want != "" && (string(got) != tc.want || !strings.Contains(string(out), "installed")):
				t.Errorf("drop-in:\n%s\nwant:\n%s\noutput %q", got, tc.want, out)
			}
		})
	}
}

// TestPrepareInstallsFreshStartBeforeEnabling: on a systemd MariaDB guest
// Prepare installs the drop-in before the reload that makes the unit read
// it; Percona's units have no such pass to skip and get none.
func TestPrepareInstallsFreshStartBeforeEnabling(t *testing.T) {
	log := preparedWithDataVolumes(t)
	install := slices.Index(log.lines, "db1: "+freshStartScript())
	reload := slices.Index(log.lines, "db1: systemctl daemon-reload")
	enable := slices.Index(log.lines, "db1: SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload mariadb")
	if install < 0 || reload < install || enable < reload {
		t.Fatalf("want the fresh-start drop-in installed, then the manager reloaded, then the unit enabled:\n%s", strings.Join(log.lines, "\n"))
	}

	pc, plog := fakeCluster(t, testSpec(Percona, "8.0", ""), "systemd")
	if err := pc.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, l := range plog.lines {
		if strings.Contains(l, freshStartDropIn) {
			t.Errorf("Percona got the fresh-start drop-in: %s", l)
		}
	}
}

// The server unit's drop-ins and the manager's reload go in while the
// datadir is initialised, the unit is enabled only after: the
// initialisation here holds until the node's manager was reloaded, which a
// Prepare that reloads after it never gets to (it gives up after 5 s).
func TestPrepareReloadsBesideTheDatadir(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	for i := range spec.Nodes {
		spec.Nodes[i].DataVolume = DataVolume{IDPrefix: "0a9d0c7e-7b2f-4f63-8", Device: "/dev/vdb"}
	}
	c, log := fakeCluster(t, spec, "systemd")
	name := spec.Nodes[0].Name
	c.nodes()[0].Runner.(*fakeServer).hold = func(ctx context.Context, cmd string) error {
		if !strings.Contains(cmd, "mariadb-install-db") {
			return nil
		}
		for deadline := time.Now().Add(5 * time.Second); !log.seen(name, "systemctl daemon-reload"); {
			if time.Now().After(deadline) {
				return errors.New("the manager was not reloaded while the datadir was initialised")
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	}
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	initialised, enable := log.first(name, "mariadb-install-db"), log.first(name, "systemctl enable --quiet --no-reload mariadb")
	if enable < initialised {
		t.Errorf("the unit was enabled (command %d) before the datadir was initialised (command %d)", enable, initialised)
	}
}

// With the health responder, Prepare reloads a systemd guest's manager
// once, with the responder's units, after the server unit's drop-ins are
// in place and before the server's unit is enabled: each reload costs the
// datadir's initialisation beside it CPU.
func TestPrepareReloadsOnceWithTheResponder(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.Clustercheck = &Clustercheck{Password: "cc-secret"}
	for i := range spec.Nodes {
		spec.Nodes[i].DataVolume = DataVolume{IDPrefix: "0a9d0c7e-7b2f-4f63-8", Device: "/dev/vdb"}
	}
	c, log := fakeCluster(t, spec, "systemd")
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, n := range spec.Nodes {
		var reloads []int
		for i, l := range log.lines {
			if strings.HasPrefix(l, n.Name+": ") && strings.Contains(l, "systemctl daemon-reload") {
				reloads = append(reloads, i)
			}
		}
		dropIn := log.first(n.Name, "UPLOAD /etc/systemd/system/mariadb.service.d/pxc-datadir.conf")
		enable := log.first(n.Name, "systemctl enable --quiet --no-reload mariadb")
		if len(reloads) != 1 || dropIn < 0 || reloads[0] < dropIn || enable < reloads[0] {
			t.Errorf("%s: want one reload after the server unit's drop-in and before its enable; reloads at %v, drop-in at %d, enable at %d:\n%s",
				n.Name, reloads, dropIn, enable, strings.Join(log.lines, "\n"))
		}
	}
}

// preparedWithDataVolumes is the log of Prepare on three systemd MariaDB
// nodes with data volumes.
func preparedWithDataVolumes(t *testing.T) *sharedLog {
	t.Helper()
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	for i := range spec.Nodes {
		spec.Nodes[i].DataVolume = DataVolume{IDPrefix: "0a9d0c7e-7b2f-4f63-8", Device: "/dev/vdb"}
	}
	c, log := fakeCluster(t, spec, "systemd")
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return log
}
