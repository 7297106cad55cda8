package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Prepare readies every node in parallel: init system, packages, data
// volume (mkfs only when it has no filesystem, mount, fstab), datadir
// initialisation (two nodes at a time, in join order) and the Galera
// option file.
func (c *Cluster) Prepare(ctx context.Context) error {
	return c.startPrepare(ctx).wait()
}

// preparing is Prepare under way, each node's outcome as it comes: Create
// bootstraps the first node ready once it is prepared, and each other node
// joins once it is, in the order they are ready, while the rest may still
// prepare.
//
// Nodes with a server already there are ready first, in c.nodes() order
// (each waits for its own prepare). A node whose server is still being
// built (Node.Await) is ready once its server is up and its prepare ended:
// on a cloud, new servers' boot times spread over seconds to tens of
// seconds, and the first one up and prepared bootstraps while the others
// still boot.
type preparing struct {
	done []chan struct{} // closed when the node's prepare ended
	errs []error
	all  sync.WaitGroup

	mu      sync.Mutex
	arrived []int           // node indexes, in the order their servers were up
	order   []int           // node indexes, in the order they are ready
	ready   []chan struct{} // ready[k] is closed once order has k+1 nodes
}

// startPrepare prepares every node in the background; "prepare done" is
// emitted once all are.
func (c *Cluster) startPrepare(ctx context.Context) *preparing {
	nodes := c.nodes()
	p := &preparing{done: make([]chan struct{}, len(nodes)), errs: make([]error, len(nodes)), ready: make([]chan struct{}, len(nodes))}
	start := time.Now()
	for i := range nodes {
		p.done[i] = make(chan struct{})
		p.ready[i] = make(chan struct{})
	}
	turns := make([]<-chan struct{}, len(nodes))
	building := make([]bool, len(nodes))
	for i, n := range nodes {
		if building[i] = n.building(); !building[i] {
			turns[i] = p.arrive(i)
			p.place(i)
		}
	}
	for i, n := range nodes {
		p.all.Go(func() {
			defer close(p.done[i])
			turn := turns[i]
			if building[i] {
				defer p.place(i) // once its prepare ended, well or not
				err := n.waitServer(ctx)
				turn = p.arrive(i)
				if err != nil {
					p.errs[i] = &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
					return
				}
			}
			t := time.Now()
			if err := c.prepareNode(ctx, n, turn); err != nil {
				p.errs[i] = &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}
				return
			}
			c.emitDone(PhasePrepare, n.Name, t, "prepared (init system %s)", n.init)
		})
	}
	go func() {
		if p.wait() == nil {
			c.emitDone(PhasePrepare, "", start, "prepare done")
		}
	}()
	return p
}

// arrive records that node i's server is up and returns its turn to
// initialise its datadir. The first two nodes up bootstrap and join
// first, and initialise side by side; each later one joins a whole state
// transfer after the one before, so it initialises once the prepare of the
// node up before it ended (the third waits for the second's, and so on).
// Where guests share a hypervisor's CPUs (the local cloud's do) the first
// joiner, which the bootstrap waits for, is then not slowed by a node
// needed seconds later; where they do not, each node is still prepared
// long before its join, which takes longer than an initialisation.
func (p *preparing) arrive(i int) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := len(p.arrived)
	p.arrived = append(p.arrived, i)
	if k < 2 {
		return nil
	}
	return p.done[p.arrived[k-1]]
}

// place gives node i the next place in the order of readiness.
func (p *preparing) place(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := len(p.order)
	p.order = append(p.order, i)
	close(p.ready[k])
}

// nth waits for the k-th node (from 0) to be ready and returns its index
// in c.nodes().
func (p *preparing) nth(ctx context.Context, k int) (int, error) {
	select {
	case <-p.ready[k]:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order[k], nil
}

// node waits for the prepare of node i (in c.nodes() order). When it
// failed, it waits for every prepare and returns all their failures, as
// Prepare would.
func (p *preparing) node(i int) error {
	<-p.done[i]
	if p.errs[i] == nil {
		return nil
	}
	return p.wait()
}

// wait waits for every prepare and joins their failures.
func (p *preparing) wait() error {
	p.all.Wait()
	return errors.Join(p.errs...)
}

// prepareNode readies one node; its datadir initialisation waits until
// turn (if not nil) is closed.
func (c *Cluster) prepareNode(ctx context.Context, n *node, turn <-chan struct{}) error {
	if err := c.detectInit(ctx, n); err != nil {
		return err
	}
	if err := c.ensurePackages(ctx, n); err != nil {
		return err
	}
	// The data volume (waited for while it attaches, then formatted and
	// mounted) is readied while the certificates and the option file that
	// names them go in: neither lives on it.
	volume := make(chan error, 1)
	go func() {
		if n.DataVolume.isZero() {
			volume <- nil
			return
		}
		volume <- c.ensureVolume(ctx, n)
	}()
	err := c.ensureTLSFiles(ctx, n, "mysql")
	if err == nil {
		err = c.writeConfig(ctx, n, c.Spec().Nodes)
	}
	if verr := <-volume; err == nil {
		err = verr
	}
	if err != nil {
		return err
	}
	l := c.layout
	// Initialise only an empty datadir: the marker is a system table file.
	script := fmt.Sprintf(`set -e
install -d -o mysql -g root -m 755 %[1]s
install -d -o mysql -g adm -m 2750 /var/log/mysql
install -d -o mysql -g mysql -m 755 %[2]s
if [ ! -e %[2]s/%[3]s ]; then
  log=$(mktemp)
  %[4]s >"$log" 2>&1 || { tail -n 20 "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
  echo initialised
fi`, runDir, dataDir, l.InitMarker, l.InstallDB)
	// The server unit's drop-ins and the health responder go in while the
	// datadir is initialised: the responder answers 503 until the server
	// is Synced, and the node's start then has nothing left to install.
	beside := make(chan error, 1)
	go func() { beside <- c.prepareBesideDatadir(ctx, n) }()
	out, err := "", awaitTurn(ctx, turn)
	if err == nil {
		out, err = n.run(ctx, script, nil)
	}
	berr := <-beside
	if err != nil {
		return fmt.Errorf("initialise datadir: %w", err)
	}
	if berr != nil {
		return berr
	}
	if strings.Contains(out, "initialised") {
		c.emit("prepare", n.Name, "datadir initialised")
	}
	return c.enableServerUnit(ctx, n)
}

// awaitTurn waits until turn is closed; a nil turn is there at once.
func awaitTurn(ctx context.Context, turn <-chan struct{}) error {
	if turn == nil {
		return nil
	}
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prepareBesideDatadir is what Prepare does while the datadir is
// initialised: the server unit's drop-ins, then the health responder. The
// manager reloads once for both (the responder's units are installed with
// a reload): a reload costs a loaded guest a few tenths of a second of
// CPU, which the datadir's initialisation beside it needs.
func (c *Cluster) prepareBesideDatadir(ctx context.Context, n *node) error {
	reload, err := c.writeServerUnit(ctx, n)
	if err != nil {
		return err
	}
	if cc := c.spec.Clustercheck; cc != nil {
		if err := c.prepareResponder(ctx, n, *cc); err != nil {
			return fmt.Errorf("clustercheck responder: %w", err)
		}
		if n.init == InitSystemd {
			return nil // reloaded with the responder's units
		}
	}
	if reload {
		if _, err := n.run(ctx, "systemctl daemon-reload", nil); err != nil {
			return fmt.Errorf("%s unit: %w", c.layout.SystemdUnit, err)
		}
	}
	return nil
}

func (c *Cluster) detectInit(ctx context.Context, n *node) error {
	if n.init != InitDetect {
		return nil
	}
	out, err := n.run(ctx, `if [ -d /run/systemd/system ]; then echo systemd; else echo none; fi`, nil)
	if err != nil {
		return fmt.Errorf("detect init system: %w", err)
	}
	if strings.TrimSpace(out) == "systemd" {
		n.init = InitSystemd
	} else {
		n.init = InitNone
	}
	return nil
}

func (c *Cluster) ensurePackages(ctx context.Context, n *node) error {
	l := c.layout
	// A new data volume is formatted XFS (ensureVolume), so mkfs.xfs is
	// needed wherever there is one; xfsprogs is in every layout's packages.
	needXFS := ""
	if !n.DataVolume.isZero() {
		needXFS = " && command -v mkfs.xfs >/dev/null"
	}
	check := fmt.Sprintf(`if [ -x %s ] && [ -e %s ]%s; then echo present; else echo missing; fi`, l.ServerPath, l.ProviderPath, needXFS)
	out, err := n.run(ctx, check, nil)
	if err != nil {
		return fmt.Errorf("check packages: %w", err)
	}
	if strings.TrimSpace(out) == "present" {
		return nil
	}
	if !c.spec.InstallPackages {
		if needXFS != "" {
			return fmt.Errorf("%s, %s or mkfs.xfs (xfsprogs) is missing and package installation is off", l.ServerPath, l.ProviderPath)
		}
		return fmt.Errorf("%s or %s is missing and package installation is off", l.ServerPath, l.ProviderPath)
	}
	osr, err := n.run(ctx, `. /etc/os-release && echo "$ID $ID_LIKE"`, nil)
	if err != nil {
		return fmt.Errorf("detect distribution: %w", err)
	}
	ids := " " + strings.TrimSpace(osr) + " "
	if !strings.Contains(ids, " debian ") && !strings.Contains(ids, " ubuntu ") {
		return fmt.Errorf("packages are missing and distribution %q is not one the library installs on (debian, ubuntu)", strings.TrimSpace(osr))
	}
	start := time.Now()
	if _, err := n.run(ctx, aptInstallScript(l.Packages, []string{l.SystemdUnit}, c.spec.PackageRepository), nil); err != nil {
		return fmt.Errorf("install packages: %w", err)
	}
	c.emitDone("prepare", n.Name, start, "installed %s", strings.Join(l.Packages, " "))
	return nil
}

// ensureVolume finds the data disk, creates a filesystem only when it has
// none, mounts it at the datadir and records it in /etc/fstab. A new volume
// is formatted XFS: it grows online with xfs_growfs, which needs only
// CAP_SYS_ADMIN, where ext4's resize2fs also needs CAP_SYS_RESOURCE. An
// existing ext4 volume (made before) is mounted as it is.
func (c *Cluster) ensureVolume(ctx context.Context, n *node) error {
	v := n.DataVolume
	script := fmt.Sprintf(`set -e
%[2]s
fresh=0
if [ -z "$(blkid -o value -s TYPE "$dev" || true)" ]; then
  if ! command -v mkfs.xfs >/dev/null; then echo "mkfs.xfs is not installed (package xfsprogs)" >&2; exit 3; fi
  mkfs.xfs -q -L galera-data "$dev"
  fresh=1
fi
fstype=$(blkid -o value -s TYPE "$dev")
case "$fstype" in
xfs) pass=0 ;;
ext4) pass=2 ;;
*) echo "$dev holds a $fstype filesystem; the datadir must be on xfs or ext4" >&2; exit 3 ;;
esac
uuid=$(blkid -o value -s UUID "$dev")
if ! findmnt -rn -S "$dev" -M %[1]s >/dev/null; then
  mount -t "$fstype" -o noatime "$dev" %[1]s
fi
if [ "$fresh" = 1 ]; then rmdir %[1]s/lost+found 2>/dev/null || true; fi
chown mysql:mysql %[1]s
grep -q "^UUID=$uuid " /etc/fstab 2>/dev/null || echo "UUID=$uuid %[1]s $fstype noatime,nofail 0 $pass" >> /etc/fstab
echo "device=$dev fstype=$fstype fresh=$fresh"`, dataDir, waitDataDevice(v, dataDeviceWait))
	out, err := n.run(ctx, script, nil)
	if err != nil {
		return fmt.Errorf("data volume: %w", err)
	}
	c.emit("prepare", n.Name, "data volume ready: %s", strings.TrimSpace(out))
	return nil
}

// findDataDevice is a shell snippet that sets $dev to the data volume's
// block device: the virtio serial link of its id, else the fallback path.
func findDataDevice(v DataVolume) string {
	return lookForDataDevice(v) + `
if [ -z "$dev" ]; then echo "data volume not found (virtio-$prefix* or "` + shellQuote(v.Device) + `")" >&2; exit 3; fi`
}

// dataDeviceWait bounds how long ensureVolume waits for the data disk.
const dataDeviceWait = 2 * time.Minute

// waitDataDevice is findDataDevice that waits up to within for the disk to
// show: it appears when the hypervisor plugs it in, a moment after Nova
// takes the attach and before Cinder calls the volume in-use, and a create
// prepares the node meanwhile (cluster.provisionNode).
func waitDataDevice(v DataVolume, within time.Duration) string {
	return fmt.Sprintf(`i=0
while :; do
%s
  [ -n "$dev" ] && break
  i=$((i + 1))
  if [ "$i" -ge %d ]; then echo "data volume not found within %s (virtio-$prefix* or "%s")" >&2; exit 3; fi
  sleep 0.1
done`, lookForDataDevice(v), int(within/(100*time.Millisecond)), within, shellQuote(v.Device))
}

// lookForDataDevice sets $dev to the data volume's block device, or to ""
// while the disk is not there.
func lookForDataDevice(v DataVolume) string {
	return fmt.Sprintf(`dev=""
prefix=%[1]s
if [ -n "$prefix" ]; then
  for l in /dev/disk/by-id/virtio-"$prefix"*; do
    if [ -e "$l" ]; then dev=$(readlink -f "$l"); break; fi
  done
fi
if [ -z "$dev" ] && [ -n %[2]s ] && [ -b %[2]s ]; then dev=%[2]s; fi`, shellQuote(v.IDPrefix), shellQuote(v.Device))
}

func (c *Cluster) writeConfig(ctx context.Context, n *node, members []Node) error {
	cnf, err := renderConfig(c.spec, members, n.Name)
	if err != nil {
		return err
	}
	if err := n.upload(ctx, c.layout.ConfigFile, []byte(cnf), 0o640); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	// mysqld and the SST scripts (running as mysql) read it.
	if _, err := n.run(ctx, "chgrp mysql "+c.layout.ConfigFile, nil); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Bootstrap starts the first node as a new cluster and gives root its
// password. It refuses when the node holds the state of an existing
// cluster (use Recover) or when another member already runs.
func (c *Cluster) Bootstrap(ctx context.Context) error {
	return c.bootstrapNode(ctx, c.nodes()[0])
}

// bootstrapNode is Bootstrap of node n.
func (c *Cluster) bootstrapNode(ctx context.Context, n *node) error {
	nodes := c.nodes()
	start := time.Now()
	ps, err := c.processes(ctx, n)
	if err != nil {
		return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
	}
	if ps.Running {
		if st, err := c.nodeStatus(ctx, n); err == nil && st.ClusterStatus == "Primary" {
			c.emit("bootstrap", n.Name, "already running in a primary component; skipped")
			return nil
		}
		// Running but not reachable as root@127.0.0.1 yet: a bootstrap that
		// failed before the admin step. Finish it below.
		if !ps.Bootstrapped {
			return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: errors.New("the server runs but is not a primary component; use Recover")}
		}
	} else {
		for _, other := range nodes {
			if other == n {
				continue
			}
			ops, err := c.processes(ctx, other)
			if err != nil {
				return &NodeError{Phase: PhaseBootstrap, Node: other.Name, Err: err}
			}
			if ops.Running {
				return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: &runsElsewhere{node: other, processes: c.serverProcesses(ctx, other)}}
			}
		}
		g, err := c.readGrastate(ctx, n)
		if err != nil {
			return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
		}
		if g.exists && g.UUID != zeroUUID && !g.SafeToBootstrap {
			return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: fmt.Errorf("the datadir holds state of cluster %s (seqno %d) and is not safe to bootstrap; use Recover", g.UUID, g.Seqno)}
		}
		c.emit("bootstrap", n.Name, "starting a new cluster")
		if err := c.start(ctx, n, true); err != nil {
			return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
		}
	}
	if err := c.waitLocalPing(ctx, n, c.opts.startTimeout); err != nil {
		return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
	}
	if err := c.ensureAdmin(ctx, n); err != nil {
		return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
	}
	if _, err := c.waitSynced(ctx, n, c.opts.startTimeout, "Primary/Synced"); err != nil {
		return &NodeError{Phase: PhaseBootstrap, Node: n.Name, Err: err}
	}
	c.emitDone("bootstrap", n.Name, start, "node 1/%d bootstrapped, Synced", len(nodes))
	return nil
}

// runsElsewhere is Bootstrap's refusal: another node already runs a
// server.
type runsElsewhere struct {
	node      *node
	processes string
}

func (e *runsElsewhere) Error() string {
	return fmt.Sprintf("node %s already runs a server%s; refusing to start a second cluster (use Join or Recover)", e.node.Name, e.processes)
}

// bootstrappedBefore is the node an earlier run of Create bootstrapped,
// when Bootstrap of another refused for it (err): its server runs in a
// primary component. Which node came first may differ between runs.
func (c *Cluster) bootstrappedBefore(ctx context.Context, err error) *node {
	var re *runsElsewhere
	if !errors.As(err, &re) {
		return nil
	}
	if st, serr := c.nodeStatus(ctx, re.node); serr != nil || st.ClusterStatus != "Primary" {
		return nil
	}
	return re.node
}

// ensureAdmin sets root's password through the local CLI (stdin, never the
// command line) and stores it in root's 0600 ~/.my.cnf for later CLI use;
// with a responder in the spec, its account and the writer record go in
// the same batch.
//
// A server that just started can answer ping a moment before Galera lets
// it take statements (ERROR 1047, "WSREP has not yet prepared node for
// application use"; seen after a restore's bootstrap): the statements,
// which are idempotent, are sent again until it does, within startTimeout.
func (c *Cluster) ensureAdmin(ctx context.Context, n *node) error {
	stmts := adminStatements(c.spec)
	if cc := c.spec.Clustercheck; cc != nil && cc.validate() == nil {
		// The responders' account and the writer record now rather than
		// after the joins: a load balancer built beside the servers then
		// judges the members while they join (the record names the first
		// member, as ever; while it is not in the component, the first
		// Synced node claims the writer), so it is settled when the
		// cluster is.
		stmts = append(stmts, c.clustercheckAccountStatements(*cc, c.Spec().Nodes)...)
	}
	deadline := time.Now().Add(c.opts.startTimeout)
	for {
		_, err := n.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(stmts)))
		if err == nil {
			break
		}
		if !wsrepNotReady(err) || time.Now().After(deadline) {
			return fmt.Errorf("set root password: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set root password: %w", ctx.Err())
		case <-time.After(max(c.opts.poll, 10*time.Millisecond)):
		}
	}
	return c.writeClientConfig(ctx, n)
}

// wsrepNotReady says whether the client failed because Galera does not
// take statements on the node yet (ERROR 1047, ER_UNKNOWN_COM_ERROR).
func wsrepNotReady(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "ERROR 1047")
}

func (c *Cluster) writeClientConfig(ctx context.Context, n *node) error {
	if err := n.upload(ctx, clientConfig, []byte(clientOptionFile(c.spec.RootPassword)), 0o600); err != nil {
		return fmt.Errorf("write client credentials: %w", err)
	}
	return nil
}

// Join starts the other nodes one at a time, each waited to Synced before
// the next: a joiner started while another is in SST/IST can abort. Started
// together they gained nothing reliable either: Galera serialises their
// transfers on the one donor, and the second one's entry into the group
// can stall (measured on the local cloud: seven 3-node creates with both
// joiners started at once took 10.2 to 13.1 s, six in turn 11.3 to 12.2 s;
// in the slowest the second joiner waited 5 s for a primary view).
func (c *Cluster) Join(ctx context.Context) error {
	nodes := c.nodes()
	for i, n := range nodes[1:] {
		if err := c.joinNode(ctx, nodes[0], n, i+2, len(nodes)); err != nil {
			return &NodeError{Phase: PhaseJoin, Node: n.Name, Err: err}
		}
	}
	return nil
}

// joinAsTheyCome is Create's Join: the nodes other than first, the
// bootstrapped one, join in the order they are ready, each once it is
// prepared, with first as the donor of their certificates and state.
func (c *Cluster) joinAsTheyCome(ctx context.Context, prep *preparing, first *node) error {
	nodes := c.nodes()
	joined := 1
	for k := range nodes {
		i, err := prep.nth(ctx, k)
		if err != nil {
			return err
		}
		n := nodes[i]
		if n == first {
			continue
		}
		if err := prep.node(i); err != nil {
			return err
		}
		joined++
		if err := c.joinNode(ctx, first, n, joined, len(nodes)); err != nil {
			return &NodeError{Phase: PhaseJoin, Node: n.Name, Err: err}
		}
	}
	return nil
}

func (c *Cluster) joinNode(ctx context.Context, donor, n *node, idx, total int) error {
	start := time.Now()
	if n.init == InitDetect {
		if err := c.detectInit(ctx, n); err != nil {
			return err
		}
	}
	ps, err := c.processes(ctx, n)
	if err != nil {
		return err
	}
	if ps.Running {
		if st, err := c.nodeStatus(ctx, n); err == nil && st.Healthy() {
			c.emit("join", n.Name, "node %d/%d already Synced; skipped", idx, total)
			return nil
		}
	}
	if err := c.waitOthersSynced(ctx, n); err != nil {
		return err
	}
	if c.spec.encrypt() {
		if err := c.copyCertificates(ctx, donor, n); err != nil {
			return err
		}
	}
	if err := c.writeClientConfig(ctx, n); err != nil {
		return err
	}
	// The donor logs in as the SST account: make sure it exists there (a
	// cluster built before the account was introduced has none).
	if stmts := sstAccountStatements(c.spec); len(stmts) > 0 {
		if _, err := donor.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(stmts))); err != nil {
			return fmt.Errorf("sst account on %s: %w", donor.Name, err)
		}
	}
	timeout := joinTimeout(c.opts.joinTimeout, c.dataSize(ctx, donor))
	if !ps.Running {
		if err := c.start(ctx, n, false); err != nil {
			return err
		}
	}
	if _, err := c.waitSynced(ctx, n, timeout, "Synced after state transfer"); err != nil {
		return err
	}
	c.emitDone("join", n.Name, start, "node %d/%d joined, Synced", idx, total)
	return nil
}

// waitOthersSynced waits until no running member is in a state transfer.
func (c *Cluster) waitOthersSynced(ctx context.Context, except *node) error {
	for _, o := range c.nodes() {
		if o == except {
			continue
		}
		ps, err := c.processes(ctx, o)
		if err != nil || !ps.Running {
			continue
		}
		if _, err := c.waitSynced(ctx, o, c.opts.joinTimeout, "Synced (before the next node may join)"); err != nil {
			return err
		}
	}
	return nil
}

// dataSize is the donor's datadir size in bytes (0 when unknown).
func (c *Cluster) dataSize(ctx context.Context, n *node) int64 {
	out, err := n.run(ctx, "du -sb "+dataDir+" 2>/dev/null | cut -f1", nil)
	if err != nil {
		return 0
	}
	if v := parseInt64(out); v > 0 {
		return v
	}
	return 0
}

// copyCertificates gives a Percona 8.0 joiner the first node's CA and
// certificate: with pxc-encrypt-cluster-traffic all nodes must share a CA.
// The datadir belongs to mysql, who could plant symlinks there: root writes
// the copies into a private directory of its own and install(1) puts them
// in place (it replaces the destination instead of writing through it, and
// sets owner and mode on the new file).
func (c *Cluster) copyCertificates(ctx context.Context, from, to *node) error {
	out, err := to.run(ctx, "mktemp -d", nil)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	staging := strings.TrimSpace(out)
	if !strings.HasPrefix(staging, "/") || strings.ContainsAny(staging, " \n'") {
		return fmt.Errorf("certificates: unexpected temporary directory %q", staging)
	}
	defer to.run(context.WithoutCancel(ctx), "rm -rf "+shellQuote(staging), nil) //nolint:errcheck // best effort
	files := []string{"ca.pem", "server-cert.pem", "server-key.pem"}
	for _, f := range files {
		content, err := from.run(ctx, "cat "+dataDir+"/"+f, nil)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		if err := to.upload(ctx, staging+"/"+f, []byte(content), 0o600); err != nil {
			return err
		}
	}
	for _, f := range files {
		cmd := "install -o mysql -g mysql -m 0600 " + shellQuote(staging+"/"+f) + " " + dataDir + "/" + f
		if _, err := to.run(ctx, cmd, nil); err != nil {
			return fmt.Errorf("install %s: %w", f, err)
		}
	}
	return nil
}

// RestartBootstrapNode restarts the first node as a normal member once all
// nodes are Synced, where its bootstrap would outlive this start
// (bootstrapOutlivesStart), so a later restart cannot start a second
// cluster. It is a no-op when the node no longer runs in bootstrap mode or
// its flavour's bootstrap applies to one start only.
func (c *Cluster) RestartBootstrapNode(ctx context.Context) error {
	return c.restartBootstrapNode(ctx, c.nodes()[0])
}

// restartBootstrapNode is RestartBootstrapNode of node n.
func (c *Cluster) restartBootstrapNode(ctx context.Context, n *node) error {
	nodes := c.nodes()
	start := time.Now()
	if !c.bootstrapOutlivesStart() {
		c.emit("restart", n.Name, "%s's bootstrap applies to one start only; no restart needed", c.spec.Flavour)
		return nil
	}
	ps, err := c.processes(ctx, n)
	if err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	if !ps.Bootstrapped {
		c.emit("restart", n.Name, "not in bootstrap mode; skipped")
		return nil
	}
	for _, o := range nodes {
		if _, err := c.waitSynced(ctx, o, c.opts.startTimeout, "Synced (before restarting the bootstrap node)"); err != nil {
			return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
		}
	}
	if err := c.restartNormally(ctx, n); err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	c.emitDone("restart", n.Name, start, "bootstrap node restarted as a normal member, Synced")
	return nil
}

// bootstrapOutlivesStart says whether the first node, once bootstrapped,
// must be restarted as a normal member. Percona runs the bootstrap in a
// unit of its own (mysql@bootstrap.service) or its own server process, and
// is switched to the normal unit as Percona documents. MariaDB's
// galera_new_cluster (a systemd environment variable it clears again) and
// mysqld_safe --wsrep-new-cluster (which does not restart a wsrep server
// that exits: max_wsrep_restarts is 0) apply to that one start only: the
// node runs as an ordinary member, and its option file, written by
// Prepare, already lists every member in wsrep_cluster_address for its
// next start, so a restart would only cost a state transfer's worth of
// time and a moment without node 1.
func (c *Cluster) bootstrapOutlivesStart() bool {
	return c.spec.Flavour == Percona
}

// restartNormally restarts a node without the bootstrap flag or unit.
func (c *Cluster) restartNormally(ctx context.Context, n *node) error {
	if n.init == InitSystemd {
		n.resetDB()
		cmd := "systemctl restart " + c.layout.SystemdUnit
		if c.spec.Flavour == Percona {
			cmd = "systemctl stop mysql@bootstrap.service && systemctl start " + c.layout.SystemdUnit
		}
		if _, err := n.run(ctx, cmd, nil); err != nil {
			return err
		}
	} else {
		if err := c.stop(ctx, n); err != nil {
			return err
		}
		if err := c.start(ctx, n, false); err != nil {
			return err
		}
	}
	_, err := c.waitSynced(ctx, n, c.opts.startTimeout, "Synced after restart")
	return err
}

// StartNode starts a stopped or crashed member normally (it rejoins by
// IST or SST) and waits until it is Synced. A running node is only waited for.
func (c *Cluster) StartNode(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	ps, err := c.processes(ctx, n)
	if err != nil {
		return err
	}
	if !ps.Running {
		if err := c.waitOthersSynced(ctx, n); err != nil {
			return err
		}
		if err := c.start(ctx, n, false); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
	}
	if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced"); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.emitDone("start", name, start, "rejoined, Synced")
	return nil
}

// StopNode stops one member cleanly and waits until its server is gone.
func (c *Cluster) StopNode(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.stop(ctx, n); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	c.emitDone("stop", name, start, "stopped cleanly")
	return nil
}

// Leave removes a member: a clean stop of its server, then the other nodes'
// wsrep_cluster_address is rewritten without it (used at their next start).
func (c *Cluster) Leave(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.stop(ctx, n); err != nil {
		return fmt.Errorf("leave %s: %w", name, err)
	}
	c.mu.Lock()
	var rest []*node
	for _, m := range c.members {
		if m != n {
			rest = append(rest, m)
		}
	}
	c.members = rest
	c.mu.Unlock()
	members := c.Spec().Nodes
	if err := parallel(rest, func(m *node) error { return c.writeConfig(ctx, m, members) }); err != nil {
		return fmt.Errorf("leave %s: rewrite gcomm:// on the others: %w", name, err)
	}
	n.close()
	c.emitDone("leave", name, start, "left the cluster; %d members remain", len(rest))
	return nil
}

// EnsureUsers creates or updates accounts and their grants on one healthy
// member (CREATE USER / GRANT replicate to all). Everything is validated
// before any statement runs.
func (c *Cluster) EnsureUsers(ctx context.Context, users ...User) error {
	var stmts []string
	for _, u := range users {
		s, err := userStatements(u)
		if err != nil {
			return fmt.Errorf("ensure users: %w", err)
		}
		stmts = append(stmts, s...)
	}
	for _, u := range users {
		c.mask.add(u.Password)
	}
	if err := c.execOnHealthy(ctx, stmts); err != nil {
		return fmt.Errorf("ensure users: %w", err)
	}
	c.emit("users", "", "%d accounts ensured", len(users))
	return nil
}

// DropUsers drops accounts (name and host only) on one healthy member;
// accounts already gone are skipped. The caller decides which accounts are
// its own: root@localhost and root@127.0.0.1 are never dropped here.
func (c *Cluster) DropUsers(ctx context.Context, users ...User) error {
	if len(users) == 0 {
		return nil
	}
	stmts, err := dropStatements(users)
	if err != nil {
		return fmt.Errorf("drop users: %w", err)
	}
	if err := c.execOnHealthy(ctx, stmts); err != nil {
		return fmt.Errorf("drop users: %w", err)
	}
	c.emit("users", "", "%d accounts dropped", len(users))
	return nil
}

// dropStatements quotes one DROP USER IF EXISTS per account (name and host
// only), refusing the library's own root accounts.
func dropStatements(users []User) ([]string, error) {
	stmts := make([]string, 0, len(users))
	for _, u := range users {
		if err := ValidateUser(User{Name: u.Name, Host: u.Host}); err != nil {
			return nil, err
		}
		if u.Name == "root" && (u.Host == "localhost" || u.Host == "127.0.0.1") {
			return nil, fmt.Errorf("%s is the library's own account", account(u.Name, u.Host))
		}
		stmts = append(stmts, "DROP USER IF EXISTS "+account(u.Name, u.Host))
	}
	return stmts, nil
}
