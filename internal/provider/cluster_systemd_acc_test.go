package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The cluster on the local cloud's real guests (issue 18): every server
// boots the image with systemd as PID 1, MariaDB runs as its enabled unit,
// and the console is the guest's own, with cloud-init's fingerprint block,
// which is what the host key is checked against here too. A Nova reboot
// of one server brings MariaDB back through its unit and the node rejoins
// by IST with no help from the provider; a kill -9 of mysqld is followed
// by the unit's Restart= policy (Debian's on-abnormal) and a rejoin. The
// plan after both is empty.
func TestAccClusterSystemdGuests(t *testing.T) {
	t.Parallel()
	sc := systemdCloud(t)
	lc := sc.lc
	name := "accsd-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	config := sc.providerBlock + lc.accClusterConfig(name, "")
	var g *systemdGuests
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					var err error
					g, err = sc.systemdGuests(t, s, name)
					if err != nil {
						return err
					}
					for _, n := range g.nodes {
						if err := n.checkSystemd(); err != nil {
							return err
						}
					}
					if err := g.rebootRejoinsByIST(t, sc, g.nodes[2]); err != nil {
						return err
					}
					return g.crashRestartedByUnit(t, sc, g.nodes[1])
				},
			},
			{
				// Nothing for the provider to do after the reboot and the crash.
				Config: config, PlanOnly: true,
			},
			{
				// Every server loses power at once and is started again:
				// the units start MariaDB at boot, with no primary
				// component to join. The apply's self-repair brings the
				// cluster back (pc.recovery, or a bootstrap of the most
				// advanced node) with every row written before.
				PreConfig: func() { g.powerLossOfEveryServer(t, sc) },
				Config:    config,
				Check: func(*terraform.State) error {
					return g.backAfterPowerLoss(t)
				},
			},
			{
				Config: config, PlanOnly: true,
			},
		},
	})
}

// sdCloud is the cloud TestAccClusterSystemdGuests runs on: the shared
// local cloud when its servers boot systemd (LOCALCLOUD_SERVER_INIT), else
// one of its own started in this process (make test's shared cloud boots
// init-less hosts; see tools/test.sh), named in the configuration's
// provider block.
type sdCloud struct {
	lc            localCloud
	client        *openstack.Client
	providerBlock string
}

func systemdCloud(t *testing.T) sdCloud {
	lc := requireLocalCloud(t)
	if os.Getenv("LOCALCLOUD_SERVER_INIT") == "systemd" {
		return sdCloud{lc: lc, client: accOpenStackClient(t)}
	}
	dir, err := os.MkdirTemp("/var/tmp", "acc-systemd-cloud-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcloud.Start(ctx, localcloud.Config{StateDir: dir, NetPrefix: "asd"})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("start a systemd local cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close the systemd local cloud: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	user, password, project, domain := c.Credentials()
	cl, err := openstack.NewClient(openstack.Config{AuthURL: c.AuthURL(), UserName: user, Password: password,
		ProjectName: project, UserDomainName: domain, ProjectDomainName: domain, Region: "RegionOne", MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	return sdCloud{
		lc: localCloud{adminURL: c.URL() + "/_admin", gateway: c.Network().Gateway().String(),
			subnet: c.Network().Subnet().String(), network: "private", image: lc.image},
		client: cl,
		providerBlock: fmt.Sprintf(`
provider "pxc" {
  auth_url            = %q
  user_name           = %q
  password            = %q
  project_name        = %q
  user_domain_name    = %q
  project_domain_name = %q
  region              = "RegionOne"
}
`, c.AuthURL(), user, password, project, domain, domain),
	}
}

func (sc sdCloud) serverID(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := sc.client.ListServers(ctx, name, nil)
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Name == name {
			return s.ID, nil
		}
	}
	return "", fmt.Errorf("no server is named %s", name)
}

// systemdNode is one server of the cluster, reached over SSH with the
// cluster's generated key and the host key its console names.
type systemdNode struct {
	name, id, ip string
	client       *ssh.Client
	config       *ssh.ClientConfig
}

type systemdGuests struct {
	password string
	nodes    []*systemdNode
}

// consoleFingerprint matches a key line of cloud-init's fingerprint block.
var consoleFingerprint = regexp.MustCompile(`(?m)^(?:<14>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} (?:ec2|cloud-init): )?[0-9]{3,5} (SHA256:[A-Za-z0-9+/=]+) `)

func (sc sdCloud) systemdGuests(t *testing.T, s *terraform.State, name string) (*systemdGuests, error) {
	key, err := stateAttr(s, "pxc_cluster.test", "generated_private_key")
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("generated_private_key: %w", err)
	}
	password, err := stateAttr(s, "pxc_cluster.test", "root_password")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := sc.client
	g := &systemdGuests{password: password}
	for i := 1; i <= 3; i++ {
		n := &systemdNode{name: fmt.Sprintf("%s-%d", name, i)}
		if n.id, err = sc.serverID(n.name); err != nil {
			return nil, err
		}
		var info struct {
			Addr string `json:"addr"`
			Init string `json:"init"`
		}
		if err := json.Unmarshal(sc.lc.admin(t, http.MethodGet, "/servers/"+n.id, nil), &info); err != nil {
			return nil, err
		}
		if info.Init != "systemd" {
			return nil, fmt.Errorf("server %s is an init-less host (%q), not its image booted with systemd", n.name, info.Init)
		}
		n.ip = info.Addr
		console, err := cl.ConsoleOutput(ctx, n.id, 0)
		if err != nil {
			return nil, fmt.Errorf("console of %s: %w", n.name, err)
		}
		// The guest's own console: systemd's boot and cloud-init's block.
		i, j := strings.Index(console, "-----BEGIN SSH HOST KEY FINGERPRINTS-----"), strings.Index(console, "-----END SSH HOST KEY FINGERPRINTS-----")
		if i < 0 || j < i || !strings.Contains(console, "Reached target") || !strings.Contains(console, "Cloud-init v. ") {
			return nil, fmt.Errorf("console of %s is not a real boot with cloud-init's fingerprint block:\n%s", n.name, console)
		}
		var fps []string
		for _, m := range consoleFingerprint.FindAllStringSubmatch(console[i:j], -1) {
			fps = append(fps, m[1])
		}
		n.config = &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, Timeout: 10 * time.Second,
			HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
				for _, fp := range fps {
					if fp == ssh.FingerprintSHA256(k) {
						return nil
					}
				}
				return fmt.Errorf("host key %s of %s is not on its console (%v)", ssh.FingerprintSHA256(k), n.name, fps)
			}}
		t.Cleanup(func() {
			if n.client != nil {
				n.client.Close()
			}
		})
		g.nodes = append(g.nodes, n)
	}
	return g, nil
}

// run runs a command on the node, dialing again after a reboot.
func (n *systemdNode) run(cmd string) (string, error) {
	if n.client == nil {
		c, err := ssh.Dial("tcp", net.JoinHostPort(n.ip, "22"), n.config)
		if err != nil {
			return "", fmt.Errorf("ssh to %s: %w", n.name, err)
		}
		n.client = c
	}
	sess, err := n.client.NewSession()
	if err != nil {
		n.client.Close()
		n.client = nil
		return "", fmt.Errorf("ssh session on %s: %w", n.name, err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if err != nil {
		return string(out), fmt.Errorf("%s on %s: %w: %s", cmd, n.name, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func (n *systemdNode) checkSystemd() error {
	for cmd, want := range map[string]string{
		"ps -p 1 -o comm=":             "systemd",
		"systemctl is-active mariadb":  "active",
		"systemctl is-enabled mariadb": "enabled",
		"hostname":                     n.name,
		"findmnt -n -o FSTYPE /var/lib/mysql || cat /proc/self/mountinfo": "xfs",
	} {
		got, err := n.run(cmd)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s: `%s` = %q, want %q", n.name, cmd, got, want)
		}
	}
	return nil
}

// wsrepState is "<cluster size> <local state>" as the node reports it.
func (n *systemdNode) wsrepState() (string, error) {
	out, err := n.run(`mariadb -N -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_cluster_size','wsrep_local_state_comment') ORDER BY VARIABLE_NAME"`)
	return strings.Join(strings.Fields(out), " "), err
}

func (n *systemdNode) waitSynced(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return eventually(ctx, within, func() error {
		st, err := n.wsrepState()
		if err == nil && st != "3 Synced" {
			err = fmt.Errorf("%s: cluster size and state %q, want 3 Synced", n.name, st)
		}
		return err
	})
}

// errorLogLines is the length of the node's MariaDB error log, so that a
// check can read only what a later start wrote.
func (n *systemdNode) errorLogLines() (int, error) {
	out, err := n.run("wc -l < /var/log/mysql/error.log")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(out)
}

// rebootRejoinsByIST: a SOFT reboot through Nova; the guest starts MariaDB
// through its enabled unit and the node rejoins by IST, no provider involved.
func (g *systemdGuests) rebootRejoinsByIST(t *testing.T, sc sdCloud, n *systemdNode) error {
	before, err := n.errorLogLines()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	compute, err := sc.client.Compute(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := servers.Reboot(ctx, compute, n.id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(); err != nil {
		return fmt.Errorf("reboot %s: %w", n.name, err)
	}
	n.client.Close()
	n.client = nil
	err = eventually(ctx, 4*time.Minute, func() error {
		s, err := servers.Get(ctx, compute, n.id).Extract()
		if err == nil && (s.Status != "ACTIVE" || s.TaskState != "") {
			err = fmt.Errorf("%s is %s (%s) after the reboot", n.name, s.Status, s.TaskState)
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := n.waitSynced(3 * time.Minute); err != nil {
		return err
	}
	// The unit turns active once mariadbd tells systemd it is ready.
	if err := eventually(ctx, 2*time.Minute, n.checkSystemd); err != nil {
		return err
	}
	t.Logf("%s: Nova reboot to Synced and its unit active: %v", n.name, time.Since(t0).Round(time.Millisecond))
	since, err := n.run(fmt.Sprintf("tail -n +%d /var/log/mysql/error.log", before+1))
	if err != nil {
		return err
	}
	if !strings.Contains(since, "IST received") {
		return fmt.Errorf("%s did not rejoin by IST after the reboot; its error log since:\n%s", n.name, since)
	}
	return nil
}

// crashRestartedByUnit: kill -9 of mysqld; the unit's Restart=on-abnormal
// starts it again (after RestartSec=5s) and the node rejoins by itself.
func (g *systemdGuests) crashRestartedByUnit(t *testing.T, sc sdCloud, n *systemdNode) error {
	policy, err := n.run("systemctl show -p Restart --value mariadb")
	if err != nil {
		return err
	}
	if policy != "on-abnormal" && policy != "on-abort" && policy != "on-failure" && policy != "always" {
		return fmt.Errorf("%s: mariadb's Restart= is %q: a crash would not be restarted", n.name, policy)
	}
	restarts := func() (int, error) {
		out, err := n.run("systemctl show -p NRestarts --value mariadb")
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(out)
	}
	before, err := restarts()
	if err != nil {
		return err
	}
	t0 := time.Now()
	sc.lc.admin(t, http.MethodPost, "/servers/"+n.id+"/kill-mysqld", nil)
	if err := n.waitSynced(3 * time.Minute); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := eventually(ctx, 2*time.Minute, n.checkSystemd); err != nil {
		return err
	}
	t.Logf("%s: kill -9 to Synced and its unit active again by Restart=%s: %v", n.name, policy, time.Since(t0).Round(time.Millisecond))
	after, err := restarts()
	if err != nil {
		return err
	}
	if after != before+1 {
		return fmt.Errorf("%s: NRestarts went from %d to %d, want one restart by the unit", n.name, before, after)
	}
	return nil
}

// outageRows is how many rows are written before the power loss.
const outageRows = 50

// powerLossOfEveryServer writes rows, cuts the power of every server
// through the local cloud's admin API (a hard power-off: no clean
// shutdown), then starts every server through Nova.
func (g *systemdGuests) powerLossOfEveryServer(t *testing.T, sc sdCloud) {
	var values []string
	for i := 1; i <= outageRows; i++ {
		values = append(values, fmt.Sprintf("(%d)", i))
	}
	if _, err := g.nodes[0].run(`mariadb -e "CREATE DATABASE IF NOT EXISTS outage; CREATE TABLE IF NOT EXISTS outage.t (id INT PRIMARY KEY); INSERT INTO outage.t VALUES ` + strings.Join(values, ",") + `"`); err != nil {
		t.Fatal(err)
	}
	for _, n := range g.nodes {
		sc.lc.admin(t, http.MethodPost, "/servers/"+n.id+"/poweroff", nil)
		if n.client != nil {
			n.client.Close()
			n.client = nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, n := range g.nodes {
		if _, err := sc.client.StartServer(ctx, n.id); err != nil {
			t.Fatalf("start %s after the power loss: %v", n.name, err)
		}
	}
	// What the units did at boot, for the log: the apply decides.
	for _, n := range g.nodes {
		_ = eventually(ctx, time.Minute, func() error { _, err := n.run("true"); return err })
		unit, _ := n.run("systemctl is-active mariadb")
		st, _ := n.wsrepState()
		t.Logf("%s after the power loss: unit %s, wsrep %q", n.name, unit, st)
	}
}

// backAfterPowerLoss: every node Synced in a 3-node cluster, its unit
// active, and every row written before the power loss on every node.
func (g *systemdGuests) backAfterPowerLoss(t *testing.T) error {
	for _, n := range g.nodes {
		if err := n.waitSynced(3 * time.Minute); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := eventually(ctx, 2*time.Minute, n.checkSystemd)
		cancel()
		if err != nil {
			return err
		}
		got, err := n.run(`mariadb -N -e "SELECT COUNT(*) FROM outage.t"`)
		if err != nil {
			return err
		}
		if got != strconv.Itoa(outageRows) {
			return fmt.Errorf("%s holds %s rows written before the power loss, want %d", n.name, got, outageRows)
		}
	}
	t.Logf("cluster back after the power loss of every server, %d rows on every node", outageRows)
	return nil
}
