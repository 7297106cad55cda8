package guest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// freshStartCommand is the drop-in's ExecStartPre as sh runs it (systemd's
// "$$" is a literal "$"), with the guest's paths moved under dir and the
// recovery pass replaced by recover.
func freshStartCommand(t *testing.T, dir, recover string) string {
	t.Helper()
	var line string
	for l := range strings.SplitSeq(freshStartUnit(), "\n") {
		if strings.HasPrefix(l, "ExecStartPre=/bin/sh -c ") {
			line = l
		}
	}
	cmd, ok := strings.CutPrefix(line, `ExecStartPre=/bin/sh -c "`)
	if !ok || !strings.HasSuffix(cmd, `"`) {
		t.Fatalf("no ExecStartPre command in the drop-in:\n%s", freshStartUnit())
	}
	cmd = strings.TrimSuffix(cmd, `"`)
	cmd = strings.ReplaceAll(cmd, "$$", "$")
	cmd = strings.ReplaceAll(cmd, dataDir, filepath.Join(dir, "datadir"))
	cmd = strings.ReplaceAll(cmd, runDir, filepath.Join(dir, "run"))
	return strings.ReplaceAll(cmd, "/usr/bin/galera_recovery", recover)
}

// TestFreshStartSkipsRecoveryOnlyOnANeverRunDatadir: the drop-in's
// ExecStartPre hands the server an empty start position without the
// --wsrep-recover pass only where Galera never ran (no grastate.dat, no
// restored backup); anywhere else it runs the pass, passes its position on
// and fails the start when the pass fails, as Debian's unit does.
func TestFreshStartSkipsRecoveryOnlyOnANeverRunDatadir(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     []string // in the datadir
		recoverOK bool
		want      string // the position file; "" with wantErr
		wantPass  bool
		wantErr   bool
	}{
		{name: "fresh datadir", want: "_WSREP_START_POSITION=\n"},
		{name: "galera ran", files: []string{"grastate.dat"}, recoverOK: true, wantPass: true,
			want: "_WSREP_START_POSITION=--wsrep_start_position=8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:17\n"},
		{name: "restored backup", files: []string{restoredMarker}, recoverOK: true, wantPass: true,
			want: "_WSREP_START_POSITION=--wsrep_start_position=8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:17\n"},
		{name: "recovery fails", files: []string{"grastate.dat"}, wantPass: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
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
			out, err := exec.Command("sh", "-c", freshStartCommand(t, dir, recover)).CombinedOutput()
			if (err != nil) != tc.wantErr {
				t.Fatalf("exit: %v, want error %v; output %s", err, tc.wantErr, out)
			}
			if _, err := os.Stat(ran); (err == nil) != tc.wantPass {
				t.Errorf("recovery pass ran: %v, want %v", err == nil, tc.wantPass)
			}
			if tc.wantErr {
				return
			}
			got, err := os.ReadFile(filepath.Join(dir, "run", "wsrep-start-position"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("position file %q, want %q", got, tc.want)
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
