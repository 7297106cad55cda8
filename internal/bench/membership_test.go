package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

type quickstartCluster struct {
	Name         string   `json:"name"`
	RootPassword string   `json:"root_password"`
	PrivateKey   string   `json:"generated_private_key"`
	Nodes        []tfNode `json:"nodes"`
	LoadBalancer struct {
		VIP string `json:"vip_address"`
	} `json:"load_balancer"`
}

// quickstartState reads the cluster, with its load balancer, from
// `terraform show`.
func quickstartState(ctx context.Context, t *testing.T, tfCLI, work string) quickstartCluster {
	t.Helper()
	var out struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Type   string          `json:"type"`
					Values json.RawMessage `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	must(t, json.Unmarshal(run(ctx, t, work, tfEnv(work), tfCLI, "show", "-json"), &out))
	var cl quickstartCluster
	for _, r := range out.Values.RootModule.Resources {
		if r.Type == "pxc_cluster" {
			must(t, json.Unmarshal(r.Values, &cl))
		}
	}
	if cl.LoadBalancer.VIP == "" {
		t.Fatal("examples/quickstart/main.tf no longer gives the cluster a load_balancer")
	}
	return cl
}

type membershipResult struct {
	grow          time.Duration // terraform apply of node_count 3 -> 4
	writer        string        // the writer the shrink moved away
	gap           time.Duration // longest write gap during the shrink 4 -> 3
	acked, failed int
	missing       []int
}

// measureMembership times a grow by one node through terraform, then makes
// the new node the writer and shrinks back with writes through the VIP
// every 100 ms: the shrink moves the writer away before the node leaves,
// so its longest write gap is a planned writer move's.
func measureMembership(ctx context.Context, t *testing.T, tfCLI, work string) membershipResult {
	t.Helper()
	setNodeCount(t, work, 4)
	start := time.Now()
	applyQuickstartAgain(ctx, t, tfCLI, work)
	res := membershipResult{grow: time.Since(start)}

	cl := quickstartState(ctx, t, tfCLI, work)
	res.writer = fmt.Sprintf("%s-4", cl.Name)
	var writerIP string
	for _, n := range cl.Nodes {
		if n.Name == res.writer {
			writerIP = n.IP
		}
	}
	db, err := galeratest.Open(net.JoinHostPort(cl.LoadBalancer.VIP, "3306"), "root", cl.RootPassword)
	must(t, err)
	defer db.Close()
	must(t, galeratest.Prepare(ctx, db, "bench.writermove"))
	_, err = db.ExecContext(ctx, "UPDATE pxc_guest.writer SET address = ? WHERE id = 1", writerIP)
	must(t, err)
	deadline := time.Now().Add(time.Minute)
	for {
		node, err := galeratest.NodeOf(ctx, db)
		if err == nil && node == res.writer {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the VIP does not follow the writer to %s (answers from %s, %v)", res.writer, node, err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	loopCtx, stop := context.WithCancel(ctx)
	logCh := make(chan *galeratest.Log, 1)
	go func() { logCh <- galeratest.RunWrites(loopCtx, db, "bench.writermove", 100*time.Millisecond) }()
	time.Sleep(3 * time.Second)
	setNodeCount(t, work, 3)
	shrinkStart := time.Now()
	applyQuickstartAgain(ctx, t, tfCLI, work)
	time.Sleep(2 * time.Second)
	stop()
	log := <-logCh
	res.gap, _ = log.LongestGap(shrinkStart)
	res.acked, res.failed = len(log.Acked), len(log.Failed)
	for _, n := range cl.Nodes {
		if n.Name != res.writer {
			sdb, err := galeratest.Open(net.JoinHostPort(n.IP, "3306"), "root", cl.RootPassword)
			must(t, err)
			defer sdb.Close()
			res.missing, err = galeratest.MissingAcked(ctx, sdb, "bench.writermove", log.Acked)
			must(t, err)
			break
		}
	}
	return res
}

func setNodeCount(t *testing.T, work string, n int) {
	t.Helper()
	p := filepath.Join(work, "main.tf")
	b, err := os.ReadFile(p)
	must(t, err)
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "node_count") {
			lines[i] = fmt.Sprintf("  node_count = %d", n)
			found = true
		}
	}
	if !found {
		t.Fatal("examples/quickstart/main.tf sets no node_count")
	}
	must(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600))
}

func applyQuickstartAgain(ctx context.Context, t *testing.T, tfCLI, work string) {
	t.Helper()
	run(ctx, t, work, tfEnv(work), tfCLI, "apply", "-auto-approve", "-input=false", "-no-color",
		fmt.Sprintf("-var=allowed_cidrs=[%q]", os.Getenv("LOCALCLOUD_SUBNET_CIDR")))
}

// rawJoin is the guest library alone adding one node to a running raw
// cluster of bare hosts: what no orchestration of a grow can beat.
func rawJoin(ctx context.Context, t *testing.T, network *host.Network, kind rawHostKind, spec guest.ClusterSpec, signer ssh.Signer, pub string) time.Duration {
	t.Helper()
	n, closeDisk := rawNode(ctx, t, network, kind, len(spec.Nodes)+1, signer, pub)
	defer closeDisk()
	spec.Nodes = append(spec.Nodes, n)
	gc, err := guest.New(spec)
	must(t, err)
	defer gc.Close()
	start := time.Now()
	must(t, gc.JoinMember(ctx, n.Name))
	return time.Since(start)
}

// rawNode starts bare host raw-<i> of the given kind with a 1 GiB disk;
// the caller closes the disk before the network.
func rawNode(ctx context.Context, t *testing.T, network *host.Network, kind rawHostKind, i int, signer ssh.Signer, pub string) (guest.Node, func()) {
	t.Helper()
	h, err := network.StartHost(ctx, kind.options(t, fmt.Sprintf("raw-%d", i), pub))
	must(t, err)
	d, err := host.NewDisk(ctx, t.TempDir(), 1<<30)
	must(t, err)
	serial := fmt.Sprintf("rawvolume%d", i)
	must(t, h.AttachDisk(ctx, d, serial))
	return guest.Node{
		Name: h.Name(), Address: h.Addr().String(),
		SSH:        &guest.SSHTarget{Addr: h.Addr().String(), Signer: signer, HostKeys: []ssh.PublicKey{h.HostKey()}},
		DataVolume: guest.DataVolume{IDPrefix: serial},
	}, func() { d.Close() }
}
