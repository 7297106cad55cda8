package guest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// lab is a network of VM-like hosts with data disks and a cluster spec
// that reaches them over real SSH with pinned host keys.
type lab struct {
	net    *host.Network
	hosts  []*host.Host
	signer ssh.Signer
	spec   guest.ClusterSpec
	events *eventLog
}

// eventLog collects progress events (and checks them for secrets).
type eventLog struct {
	mu     sync.Mutex
	events []guest.Event
	t      *testing.T
}

func (l *eventLog) observe(e guest.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	l.t.Log(e.String())
}

func (l *eventLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

const (
	rootPassword = `r00t'pa"ss\wörd`
	appPassword  = `app-'"\-密码-🔑`
	ccPassword   = `cc-'"\-pw`
	sstPassword  = `sst-'"\-pw#;x`
)

// httpCode asks a node's clustercheck responder; 0 means no answer.
func httpCode(t *testing.T, h *host.Host, path string) int {
	t.Helper()
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + h.Addr().String() + ":9200" + path)
	if err != nil {
		t.Logf("clustercheck %s%s: %v", h.Name(), path, err)
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// checkCodes asserts the responder's answers for path on every host.
func checkCodes(t *testing.T, l *lab, path string, want ...int) {
	t.Helper()
	for i, h := range l.hosts {
		if got := httpCode(t, h, path); got != want[i] {
			t.Errorf("clustercheck %s%s = %d, want %d", h.Name(), path, got, want[i])
		}
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("integration tests need root (namespaces, loop devices, mariadb)")
	}
	for _, bin := range []string{"/usr/sbin/mariadbd", "/usr/lib/galera/libgalera_smm.so", "/usr/sbin/sshd"} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s is missing: install mariadb-server, galera-4 and openssh-server", bin)
		}
	}
}

func newLab(t *testing.T, names ...string) *lab {
	t.Helper()
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := host.Sweep(ctx); err != nil {
		t.Logf("sweep: %v", err)
	}
	nw, err := host.NewNetwork(ctx, host.NetworkOptions{Prefix: "gst"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
		assertNothingLeft(t, nw)
	})
	return newLabOn(t, nw, names...)
}

// newLabOn starts the lab's hosts, each with a data disk, on nw (whose
// owner closes it).
func newLabOn(t *testing.T, nw *host.Network, names ...string) *lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	l := &lab{net: nw, signer: signer, events: &eventLog{t: t}}
	l.spec = guest.ClusterSpec{
		Name:         "guesttest",
		Flavour:      guest.MariaDB,
		Version:      "10.11",
		SST:          guest.SSTRsync,
		RootPassword: rootPassword,
		SSTPassword:  sstPassword,
		GCacheSize:   "32M",
		Parameters:   map[string]string{"innodb_buffer_pool_size": "64M"},
		Clustercheck: &guest.Clustercheck{Password: ccPassword},
	}
	hosts := make([]*host.Host, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := nw.StartHost(ctx, host.Options{Name: name, AuthorizedKeys: []string{authorized}})
			if err != nil {
				errs[i] = err
				return
			}
			hosts[i] = h
			d, err := host.NewDisk(ctx, nw.StateDir()+"/disks", 1<<30)
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(func() { d.Close() })
			errs[i] = h.AttachDisk(ctx, d, "vol-"+name+"-0123456")
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	l.hosts = hosts
	for i, h := range hosts {
		l.spec.Nodes = append(l.spec.Nodes, guest.Node{
			Name:       names[i],
			Address:    h.Addr().String(),
			SSH:        &guest.SSHTarget{Addr: h.SSHAddr(), Signer: signer, HostKeys: []ssh.PublicKey{h.HostKey()}},
			DataVolume: guest.DataVolume{IDPrefix: "vol-" + names[i]},
		})
	}
	return l
}

func (l *lab) cluster(t *testing.T) *guest.Cluster {
	t.Helper()
	c, err := guest.New(l.spec, guest.WithObserver(l.events.observe), guest.WithPollInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func assertNothingLeft(t *testing.T, nw *host.Network) {
	t.Helper()
	id := nw.ID()
	if out, _ := exec.Command("ip", "netns", "list").CombinedOutput(); strings.Contains(string(out), id) {
		t.Errorf("namespaces left:\n%s", out)
	}
	if out, _ := exec.Command("losetup", "-a").CombinedOutput(); strings.Contains(string(out), nw.StateDir()) {
		t.Errorf("loop devices left:\n%s", out)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), nw.StateDir()) {
		t.Errorf("mounts left under %s", nw.StateDir())
	}
	if out, _ := exec.Command("pgrep", "-f", nw.StateDir()).CombinedOutput(); len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("processes left: %s", out)
	}
}

// console runs a command inside a host without SSH (test assertions only).
func console(t *testing.T, h *host.Host, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.Console(ctx, script)
	if err != nil {
		t.Fatalf("console %s: %q: %v\n%s", h.Name(), script, err, out)
	}
	return string(out)
}

// userDB logs in as a user through an SSH tunnel to a node.
func userDB(t *testing.T, ctx context.Context, l *lab, i int, user, password string) *sql.DB {
	t.Helper()
	h := l.hosts[i]
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return tunnelDB(t, cl, user, password)
}

func exec1(t *testing.T, ctx context.Context, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestClusterLifecycle builds one 3-node MariaDB Galera cluster over SSH and
// drives it through replication, users, a kill -9 + IST rejoin, a network
// partition, a full power-off with recovery, and a leave.
func TestClusterLifecycle(t *testing.T) {
	l := newLab(t, "db1", "db2", "db3")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := l.cluster(t)
	step := time.Now()
	lap := func(what string) {
		t.Logf("TIMING %-28s %6.1fs", what, time.Since(step).Seconds())
		step = time.Now()
	}

	st, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lap("create (prepare..gate)")
	for _, n := range st.Nodes {
		if n.ClusterSize != 3 || !n.Healthy() || n.NodeName != n.Node {
			t.Errorf("after create: %s", n)
		}
	}
	// The datadir is on the attached volume, recorded in fstab.
	for _, h := range l.hosts {
		out := console(t, h, "findmnt -rn -o SOURCE /var/lib/mysql; grep -c ' /var/lib/mysql xfs noatime,' /etc/fstab")
		if !strings.Contains(out, "/dev/loop") || !strings.Contains(out, "\n1\n") {
			t.Errorf("%s: datadir not on the data volume or fstab entry missing:\n%s", h.Name(), out)
		}
	}
	checkCodes(t, l, "/", 200, 200, 200)
	checkCodes(t, l, "/writer", 200, 503, 503)
	// Re-running the whole sequence changes nothing and succeeds.
	if _, err := c.Create(ctx); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	lap("create again (idempotent)")

	// MariaDB's --wsrep-new-cluster applies to one start: Create leaves
	// node 1 running as it was bootstrapped, and its next start is an
	// ordinary join of the members its option file lists.
	t.Run("node 1 is not restarted, and its next start joins", func(t *testing.T) {
		bootstrapped := "pgrep -f -- '--[w]srep-new-cluster' >/dev/null && echo bootstrapped || echo ordinary"
		if out := console(t, l.hosts[0], bootstrapped); !strings.Contains(out, "bootstrapped") {
			t.Errorf("db1 was restarted after the joins: %s", out)
		}
		if err := c.StopNode(ctx, "db1"); err != nil {
			t.Fatal(err)
		}
		if err := c.StartNode(ctx, "db1"); err != nil {
			t.Fatal(err)
		}
		st, err := c.WaitGate(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n1, _ := st.Node("db1"); n1.ClusterSize != 3 {
			t.Errorf("db1 after its restart: %s", n1)
		}
		if out := console(t, l.hosts[0], bootstrapped); !strings.Contains(out, "ordinary") {
			t.Errorf("db1's next start bootstrapped again: %s", out)
		}
	})
	lap("node 1 restart (ordinary join)")

	t.Run("replication and users", func(t *testing.T) {
		db3, err := c.DB(ctx, "db3")
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, ctx, db3, "CREATE DATABASE shop")
		exec1(t, ctx, db3, "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB")
		exec1(t, ctx, db3, "INSERT INTO shop.items VALUES (1, 'written on db3')")
		db2, err := c.DB(ctx, "db2")
		if err != nil {
			t.Fatal(err)
		}
		// Apply on the other nodes is asynchronous: a causal read waits for it.
		conn, err := db2.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait=1"); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := conn.QueryRowContext(ctx, "SELECT name FROM shop.items WHERE id=1").Scan(&name); err != nil || name != "written on db3" {
			t.Fatalf("read on db2: %q, %v", name, err)
		}
		appUser := `app'o\"ü`
		err = c.EnsureUsers(ctx, guest.User{Name: appUser, Host: "%", Password: appPassword,
			Grants: []guest.Grant{{Privileges: []string{"SELECT", "INSERT"}, On: "shop.*"}}})
		if err != nil {
			t.Fatal(err)
		}
		// Again: idempotent.
		if err := c.EnsureUsers(ctx, guest.User{Name: appUser, Host: "%", Password: appPassword,
			Grants: []guest.Grant{{Privileges: []string{"SELECT", "INSERT"}, On: "shop.*"}}}); err != nil {
			t.Fatal(err)
		}
		app := userDB(t, ctx, l, 2, appUser, appPassword)
		if _, err := app.ExecContext(ctx, "SET SESSION wsrep_sync_wait=1"); err != nil {
			t.Fatal(err)
		}
		app.SetMaxOpenConns(1)
		var n int
		if err := app.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.items").Scan(&n); err != nil || n != 1 {
			t.Fatalf("user created via db1 logging in on db3: count=%d err=%v", n, err)
		}
		if _, err := app.ExecContext(ctx, "DROP TABLE shop.items"); err == nil {
			t.Errorf("user has more privileges than granted")
		}
		wrong := userDB(t, ctx, l, 2, appUser, "wrong")
		if err := wrong.PingContext(ctx); err == nil {
			t.Errorf("wrong password accepted")
		}
		// An injection attempt is refused before any SQL runs.
		err = c.EnsureUsers(ctx, guest.User{Name: "x", Password: "y", Grants: []guest.Grant{{Privileges: []string{"ALL ON *.* TO x; --"}, On: "*.*"}}})
		if err == nil {
			t.Errorf("injected privilege accepted")
		}
	})
	lap("replication + users")

	t.Run("kill -9 and IST rejoin", func(t *testing.T) {
		console(t, l.hosts[2], "pkill -9 -x mariadbd; true")
		var last error
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			st, err := c.Gate(ctx)
			last = err
			n1, _ := st.Node("db1")
			if err != nil && n1.ClusterSize == 2 {
				if !strings.Contains(err.Error(), "missing: db3") || len(st.Missing) != 1 || st.Missing[0] != "db3" {
					t.Errorf("gate should name db3 as missing: %v", err)
				}
				t.Logf("gate after kill -9: %v", err)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if st, _ := c.Status(ctx); len(st.Missing) == 0 {
			t.Fatalf("gate never reported the killed node (last: %v)", last)
		}
		checkCodes(t, l, "/", 200, 200, 503)
		lap("kill -9 detected")
		if err := c.StartNode(ctx, "db3"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitGate(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		// grep -c prints a count only when it could read the log: anything
		// else (a missing log, an error message) is no proof of IST.
		out := console(t, l.hosts[2], "grep -c 'IST received' /var/log/mysql/error.log || true")
		if n, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || n == 0 {
			t.Errorf("db3 did not rejoin by IST (grep -c 'IST received' /var/log/mysql/error.log: %q)", out)
		}
	})
	lap("restart + IST rejoin")

	t.Run("partition", func(t *testing.T) {
		h3 := l.hosts[2]
		if err := h3.Blackhole(ctx, l.hosts[0].Addr(), l.hosts[1].Addr()); err != nil {
			t.Fatal(err)
		}
		var st guest.Status
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			st, _ = c.Status(ctx)
			if n3, _ := st.Node("db3"); n3.Err == nil && n3.ClusterStatus == "non-Primary" {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		n3, _ := st.Node("db3")
		if n3.ClusterStatus != "non-Primary" || n3.Ready {
			t.Fatalf("partitioned db3: %s", n3)
		}
		if _, err := c.Gate(ctx); err == nil {
			t.Errorf("gate passed during a partition")
		}
		checkCodes(t, l, "/", 200, 200, 503)
		checkCodes(t, l, "/writer", 200, 503, 503)
		n1, _ := st.Node("db1")
		t.Logf("partitioned: %s | %s", n3, n1)
		lap("partition detected")
		if err := h3.Unblackhole(ctx, l.hosts[0].Addr(), l.hosts[1].Addr()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitGate(ctx, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	})
	lap("partition healed")

	t.Run("full power-off and recovery", func(t *testing.T) {
		db1, err := c.DB(ctx, "db1")
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, ctx, db1, "CREATE TABLE shop.numbers (n INT PRIMARY KEY) ENGINE=InnoDB")
		const rows = 300
		for i := 1; i <= rows; i++ {
			exec1(t, ctx, db1, "INSERT INTO shop.numbers VALUES (?)", i)
		}
		// All three at once: a power cut.
		var wg sync.WaitGroup
		for _, h := range l.hosts {
			wg.Add(1)
			go func() { defer wg.Done(); _ = h.PowerOff(ctx) }()
		}
		wg.Wait()
		lap("rows written + power-off")
		for _, h := range l.hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := h.PowerOn(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// These hosts have no init that mounts fstab: Prepare mounts the
		// existing volumes again (no mkfs, no install-db).
		if err := c.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		for _, h := range l.hosts {
			if out := console(t, h, "grep -h safe_to_bootstrap /var/lib/mysql/grastate.dat"); !strings.Contains(out, "safe_to_bootstrap: 0") {
				t.Errorf("%s after the crash: %s", h.Name(), out)
			}
		}
		lap("power-on + prepare")
		d, err := c.Recover(ctx, "")
		if err != nil {
			t.Fatalf("recover: %v (decision: %s)", err, d)
		}
		t.Logf("decision: %s", d)
		var max int64 = -1
		for _, n := range d.Nodes {
			if !n.Recovered || n.Seqno < 0 {
				t.Errorf("%s: seqno %d recovered=%v; want a --wsrep-recover position", n.Node, n.Seqno, n.Recovered)
			}
			if n.Seqno > max {
				max = n.Seqno
			}
		}
		for _, n := range d.Nodes {
			if n.Node == d.Source && n.Seqno != max {
				t.Errorf("source %s has seqno %d, the highest is %d", n.Node, n.Seqno, max)
			}
		}
		if d.Source == "" || !strings.Contains(d.Reason, fmt.Sprintf("highest seqno %d", max)) {
			t.Errorf("decision does not explain itself: %s", d)
		}
		if _, err := c.WaitGate(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		// The responders came back with the servers after the power cut.
		checkCodes(t, l, "/", 200, 200, 200)
		checkCodes(t, l, "/writer", 200, 503, 503)
		for _, name := range []string{"db1", "db2", "db3"} {
			db, err := c.DB(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			var count, sum int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(n),0) FROM shop.numbers").Scan(&count, &sum); err != nil {
				t.Fatal(err)
			}
			if count != rows || sum != rows*(rows+1)/2 {
				t.Errorf("%s has %d rows (sum %d) after recovery, want %d", name, count, sum, rows)
			}
		}
	})
	lap("survey + recover")

	t.Run("staggered crash: the most advanced node is chosen", func(t *testing.T) {
		// db1 crashes first; db2 and db3 commit more, then crash together.
		if err := l.hosts[0].PowerOff(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, _ := c.Status(ctx)
			if n2, _ := st.Node("db2"); n2.ClusterSize == 2 && n2.Healthy() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("db2 never saw db1 leave: %v", st.Problems)
			}
			time.Sleep(500 * time.Millisecond)
		}
		db2, err := c.DB(ctx, "db2")
		if err != nil {
			t.Fatal(err)
		}
		for i := 301; i <= 400; i++ {
			exec1(t, ctx, db2, "INSERT INTO shop.numbers VALUES (?)", i)
		}
		var wg sync.WaitGroup
		for _, h := range l.hosts[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); _ = h.PowerOff(ctx) }()
		}
		wg.Wait()
		for _, h := range l.hosts {
			if err := h.PowerOn(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := c.Recover(ctx, "")
		if err != nil {
			t.Fatalf("recover: %v (decision: %s)", err, d)
		}
		t.Logf("decision: %s", d)
		// db2 and db3 may differ too: a node's recovered position is what it
		// had applied, and a slower applier crashes further behind.
		seq := map[string]int64{}
		var max int64 = -1
		for _, n := range d.Nodes {
			seq[n.Node] = n.Seqno
			if n.Seqno > max {
				max = n.Seqno
			}
		}
		if d.Source == "db1" || seq[d.Source] != max || seq["db1"] >= max {
			t.Errorf("want the node with the highest seqno, never the stale db1: %s", d)
		}
		if _, err := c.WaitGate(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"db1", "db2", "db3"} {
			db, err := c.DB(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			var count int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.numbers").Scan(&count); err != nil || count != 400 {
				t.Errorf("%s has %d rows after recovery (err %v), want 400", name, count, err)
			}
		}
	})
	lap("staggered crash + recover")

	t.Run("leave", func(t *testing.T) {
		if err := c.Leave(ctx, "db3"); err != nil {
			t.Fatal(err)
		}
		st, err := c.WaitGate(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Nodes) != 2 || st.Nodes[0].ClusterSize != 2 {
			t.Errorf("after leave: %+v", st)
		}
		cnf := console(t, l.hosts[0], "grep wsrep_cluster_address /etc/mysql/mariadb.conf.d/99-galera-guest.cnf")
		if strings.Contains(cnf, l.hosts[2].Addr().String()) {
			t.Errorf("db1 still lists db3: %s", cnf)
		}
		if out := console(t, l.hosts[2], "pgrep -x mariadbd || echo none"); !strings.Contains(out, "none") {
			t.Errorf("db3 still runs mariadbd")
		}
	})
	lap("leave")

	log := l.events.text()
	for _, secret := range []string{rootPassword, appPassword, ccPassword, sstPassword} {
		if strings.Contains(log, secret) {
			t.Errorf("a password appeared in the progress events")
		}
	}
	for _, h := range l.hosts {
		if out := console(t, h, "stat -c '%a %U' /root/.my.cnf; stat -c '%a %G' /etc/mysql/mariadb.conf.d/99-galera-guest.cnf"); !strings.Contains(out, "600 root") || !strings.Contains(out, "640 mysql") {
			t.Errorf("%s: file modes: %s", h.Name(), out)
		}
	}
}

// TestMariabackupCluster builds a cluster whose joiners receive their state
// by mariabackup (the library's MariaDB default), with the datadir on the
// root filesystem (no data volume).
func TestMariabackupCluster(t *testing.T) {
	l := newLab(t, "mb1", "mb2", "mb3")
	for i := range l.spec.Nodes {
		l.spec.Nodes[i].DataVolume = guest.DataVolume{}
	}
	l.spec.SST = ""
	l.spec.Clustercheck = nil
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := l.cluster(t)
	t0 := time.Now()
	if _, err := c.Create(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING create with mariabackup SST %.1fs", time.Since(t0).Seconds())
	for _, h := range l.hosts[1:] {
		out := console(t, h, "grep -c 'wsrep_sst_mariabackup' /var/log/mysql/error.log || true; findmnt -rn -o SOURCE /var/lib/mysql | grep -c loop || true")
		if lines := strings.Fields(out); len(lines) != 2 || lines[0] == "0" || lines[1] != "0" {
			t.Errorf("%s: want an SST by mariabackup into a datadir on the root filesystem; got %q", h.Name(), out)
		}
	}
	db, err := c.DB(ctx, "mb3")
	if err != nil {
		t.Fatal(err)
	}
	var method string
	if err := db.QueryRowContext(ctx, "SELECT @@wsrep_sst_method").Scan(&method); err != nil || method != "mariabackup" {
		t.Errorf("wsrep_sst_method = %q, %v", method, err)
	}
	// The joiners received their state through the SST account (its
	// password round-trips through the option file), which holds only the
	// backup privileges, and the root password is in no server option file.
	var grants string
	if err := db.QueryRowContext(ctx, "SHOW GRANTS FOR 'sstuser'@'localhost'").Scan(&grants); err != nil {
		t.Fatalf("sst account: %v", err)
	}
	if !strings.HasPrefix(grants, "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO `sstuser`@`localhost`") {
		t.Errorf("sst account grants: %s", grants)
	}
	for _, h := range l.hosts {
		out := console(t, h, "grep -rhF -e "+shellQuoteTest(rootPassword)+" /etc/mysql/ | wc -l; grep -c '^wsrep_sst_auth' /etc/mysql/mariadb.conf.d/99-galera-guest.cnf")
		if f := strings.Fields(out); len(f) != 2 || f[0] != "0" || f[1] != "1" {
			t.Errorf("%s: root password lines in /etc/mysql, wsrep_sst_auth lines: %q", h.Name(), out)
		}
	}
}

func shellQuoteTest(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writerCodes asks every node's /writer once, in host order, as a load
// balancer's checks do.
func writerCodes(t *testing.T, l *lab) []int {
	codes := make([]int, len(l.hosts))
	for i, h := range l.hosts {
		codes[i] = httpCode(t, h, "/writer")
	}
	return codes
}

// waitOneWriter polls the /writer checks until exactly one node answers
// 200 and returns it; never may a node in forbidden answer 200.
func waitOneWriter(t *testing.T, l *lab, within time.Duration, forbidden ...int) int {
	t.Helper()
	deadline := time.Now().Add(within)
	var codes []int
	for time.Now().Before(deadline) {
		codes = writerCodes(t, l)
		writer, n := -1, 0
		for i, c := range codes {
			if c == 200 {
				writer, n = i, n+1
				if slices.Contains(forbidden, i) {
					t.Errorf("%s answered 200 on /writer (codes %v)", l.hosts[i].Name(), codes)
				}
			}
		}
		if n > 1 {
			t.Fatalf("two writers: %v", codes)
		}
		if n == 1 {
			return writer
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no single writer within %s (last codes %v)", within, codes)
	return -1
}

// TestStickyWriter: the single writer stays where it is while it is
// healthy. Node 1 returning does not take it back, and a node that
// donates (is desynced) hands it over and does not take it back either.
func TestStickyWriter(t *testing.T) {
	l := newLab(t, "sw1", "sw2", "sw3")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := l.cluster(t)
	if _, err := c.Create(ctx); err != nil {
		t.Fatal(err)
	}
	// Defect 12: the responder is not root and bounds its connections.
	for _, h := range l.hosts {
		out := console(t, h, "for p in $(pgrep -x socat); do stat -c %U /proc/$p; tr '\\0' ' ' </proc/$p/cmdline; echo; done")
		if !strings.Contains(out, "mysql\n") || strings.Contains(out, "root\n") || !strings.Contains(out, "max-children=16") {
			t.Errorf("%s: responder processes:\n%s", h.Name(), out)
		}
	}
	if w := waitOneWriter(t, l, 10*time.Second); w != 0 {
		t.Fatalf("initial writer is %s, want the first member", l.hosts[w].Name())
	}

	// Node 1 fails: another node takes the writer.
	if err := c.StopNode(ctx, "sw1"); err != nil {
		t.Fatal(err)
	}
	w := waitOneWriter(t, l, 60*time.Second, 0)
	t.Logf("writer after sw1 stopped: %s", l.hosts[w].Name())

	// Node 1 rejoins (IST, then Synced): the writer stays.
	if err := c.StartNode(ctx, "sw1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitGate(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := waitOneWriter(t, l, 5*time.Second, 0); got != w {
			t.Fatalf("the writer moved from %s to %s when sw1 came back", l.hosts[w].Name(), l.hosts[got].Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range st.Nodes {
		if got, ok := guest.WriterOf(l.spec.Nodes, n); !ok || got.Name != l.hosts[w].Name() {
			t.Errorf("WriterOf(%s's status) = %v %v, want %s", n.Node, got.Name, ok, l.hosts[w].Name())
		}
	}

	// The writer is desynced (what a donor is): it is not the writer
	// while desynced, another node takes over, and it does not come back.
	db, err := c.DB(ctx, l.hosts[w].Name())
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, ctx, db, "SET GLOBAL wsrep_desync = ON")
	next := waitOneWriter(t, l, 30*time.Second, w)
	exec1(t, ctx, db, "SET GLOBAL wsrep_desync = OFF")
	if _, err := c.WaitGate(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := waitOneWriter(t, l, 5*time.Second, w); got != next {
			t.Fatalf("the writer moved from %s to %s after the donor was Synced again", l.hosts[next].Name(), l.hosts[got].Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
