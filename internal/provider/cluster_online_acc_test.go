package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// Passwords of the write-only rotation; neither may ever be in state.
const (
	onlinePassword1 = "first-Root-pw-of-the-online-test"
	onlinePassword2 = "second-Root-pw-of-the-online-test"
)

// onlineConfig is a cluster with a write-only root password behind a
// single-writer pool; root may log in from this machine and, through the
// load balancer, from its VIP subnet.
func (lc localCloud) onlineConfig(name, password string, version, maxConnections, volumeGiB int, extraParameters ...string) string {
	return fmt.Sprintf(`
resource "pxc_cluster" "test" {
  name = %[1]q
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  flavor     = "m1.small"
  image      = %[2]q
  network    = %[3]q
  volume     = { size = %[8]d }
  sst_method = "rsync"
  parameters = {
    innodb_buffer_pool_size = "64M"
    max_connections         = "%[7]d"
%[10]s
  }
  allowed_cidrs            = [%[4]q, %[9]q]
  root_password_wo         = %[5]q
  root_password_wo_version = %[6]d
}

resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`, name, lc.image, lc.network, lc.gateway+"/32", password, version, maxConnections, volumeGiB, lc.subnet, strings.Join(extraParameters, "\n"))
}

// Changes of a running cluster, chained on one cluster behind a single-
// writer pool with writes through its VIP during every apply: a dynamic
// parameter (no node restarts: uptime), volume 1 -> 2 GiB (df in every
// guest, uptime), a write-only root password rotation by version bump
// (the new one works on every node and through the VIP, the old one
// fails, neither is in state), and a static parameter (a rolling restart:
// every node restarted, the writer moved first). Each: no acknowledged write lost, every
// node Synced, and the plan after the apply is empty (the framework's
// own check after each step).
func TestAccClusterOnlineChanges(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "accon-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	w := &dayTwoWrites{atOnce: true}
	t.Cleanup(func() { w.stop() })
	var applyStarted time.Time
	var uptimes map[string]int64
	password := onlinePassword1
	state := func(s *terraform.State) (cidrsState, error) { return readOnlineState(s, password) }
	// onState runs a check on the cluster as the test knows it.
	onState := func(check func(st cidrsState) error) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			st, err := state(s)
			if err != nil {
				return err
			}
			return check(st)
		}
	}
	startWrites := func(table string) resource.TestCheckFunc {
		return onState(func(st cidrsState) (err error) {
			if uptimes, err = serverUptimes(st); err != nil {
				return err
			}
			return w.start(st, table)
		})
	}
	checkWrites := func(what string) resource.TestCheckFunc {
		return onState(func(st cidrsState) error { return w.check(t, st, what, applyStarted, vipMaxGap) })
	}
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
		plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
	}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.onlineConfig(name, onlinePassword1, 1, 151, 1),
				Check: resource.ComposeTestCheckFunc(
					checkPasswordsNotInState(onlinePassword1, onlinePassword2),
					startWrites("acc.online_parameters"),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.onlineConfig(name, onlinePassword1, 1, 250, 1),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("dynamic parameter change"),
					onState(func(st cidrsState) error {
						if err := checkNoRestart(st, uptimes); err != nil {
							return err
						}
						return checkVariableEverywhere(st, "max_connections", "250")
					}),
					startWrites("acc.online_volume"),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.onlineConfig(name, onlinePassword1, 1, 250, 2),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("volume grow"),
					func(s *terraform.State) error {
						st, err := state(s)
						if err != nil {
							return err
						}
						if err := checkNoRestart(st, uptimes); err != nil {
							return err
						}
						return lc.checkDatadirSize(t, s, st, 2)
					},
					startWrites("acc.online_password"),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now(); password = onlinePassword2 },
				Config:           lc.onlineConfig(name, onlinePassword2, 2, 250, 2),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("root password rotation"),
					checkPasswordsNotInState(onlinePassword1, onlinePassword2),
					onState(func(st cidrsState) error {
						if err := checkNoRestart(st, uptimes); err != nil {
							return err
						}
						return checkRootPasswordRotated(st, onlinePassword1, onlinePassword2)
					}),
					startWrites("acc.online_static"),
				),
			},
			{
				// back_log is static: every node restarts once, the writer last.
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.onlineConfig(name, onlinePassword2, 2, 250, 2, `    back_log = "100"`),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("static parameter change (rolling restart)"),
					onState(func(st cidrsState) error {
						if err := checkRestartedSince(st, applyStarted); err != nil {
							return err
						}
						return checkVariableEverywhere(st, "back_log", "100")
					}),
				),
			},
		},
	})
}

// readOnlineState reads the VIP and the node addresses of the cluster and
// its pool from state; the root password is given (a write-only one is
// known to the test, not to state).
func readOnlineState(s *terraform.State, password string) (cidrsState, error) {
	st := cidrsState{password: password}
	vip, err := stateAttr(s, "pxc_lb_pool.single", "vip_address")
	if err != nil {
		// No pxc_lb_pool: the cluster's own load balancer.
		if vip, err = stateAttr(s, "pxc_cluster.test", "load_balancer.vip_address"); err != nil {
			return st, err
		}
	}
	st.vip = net.JoinHostPort(vip, "3306")
	for i := 0; i < 3; i++ {
		ip, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("ips.%d", i))
		if err != nil {
			return st, err
		}
		st.ips = append(st.ips, ip)
	}
	return st, nil
}

// checkPasswordsNotInState: no attribute of any resource holds a password.
func checkPasswordsNotInState(passwords ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for addr, rs := range s.RootModule().Resources {
			for k, v := range rs.Primary.Attributes {
				for _, pw := range passwords {
					if strings.Contains(v, pw) {
						return fmt.Errorf("%s.%s holds a write-only root password", addr, k)
					}
				}
			}
		}
		if v := s.RootModule().Resources["pxc_cluster.test"].Primary.Attributes["root_password"]; v != "" {
			return fmt.Errorf("root_password is in state (%d characters) although root_password_wo is set", len(v))
		}
		return nil
	}
}

// serverUptimes is every node's mysqld Uptime in seconds, by address.
func serverUptimes(st cidrsState) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := map[string]int64{}
	for _, ip := range st.ips {
		db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
		if err != nil {
			return nil, err
		}
		var k, v string
		err = db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Uptime'").Scan(&k, &v)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("uptime of %s: %w", ip, err)
		}
		if out[ip], err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("uptime of %s: %w", ip, err)
		}
	}
	return out, nil
}

// checkNoRestart: every server has run without a restart since before.
func checkNoRestart(st cidrsState, before map[string]int64) error {
	now, err := serverUptimes(st)
	if err != nil {
		return err
	}
	for ip, was := range before {
		if now[ip] < was {
			return fmt.Errorf("the server on %s restarted during the change: uptime %d s, %d s before", ip, now[ip], was)
		}
	}
	return nil
}

// checkRestartedSince: every server started after the given time (the
// rolling restart reached every node).
func checkRestartedSince(st cidrsState, since time.Time) error {
	now, err := serverUptimes(st)
	if err != nil {
		return err
	}
	limit := int64(time.Since(since).Seconds()) + 1
	for ip, up := range now {
		if up > limit {
			return fmt.Errorf("the server on %s was not restarted: up %d s, the apply began %d s ago", ip, up, limit)
		}
	}
	return nil
}

// checkVariableEverywhere: every node's running server has the value.
func checkVariableEverywhere(st cidrsState, name, want string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ip := range st.ips {
		db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
		if err != nil {
			return err
		}
		got, err := queryString(ctx, db, "SELECT @@GLOBAL."+name)
		db.Close()
		if err != nil {
			return fmt.Errorf("%s on %s: %w", name, ip, err)
		}
		if got != want {
			return fmt.Errorf("%s on %s is %s, want %s", name, ip, got, want)
		}
	}
	return nil
}

// checkDatadirSize runs df in every guest: the datadir's filesystem has
// grown to about the volume's size.
func (lc localCloud) checkDatadirSize(t *testing.T, s *terraform.State, st cidrsState, wantGiB int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	key, err := stateAttr(s, "pxc_cluster.test", "generated_private_key")
	if err != nil {
		return err
	}
	cl := accOpenStackClient(t)
	for i, ip := range st.ips {
		serverID, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.id", i))
		if err != nil {
			return err
		}
		console, err := cl.ConsoleOutput(ctx, serverID, 0)
		if err != nil {
			return err
		}
		fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`).FindAllString(console, -1)
		ssh, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: ip, User: "root", PrivateKey: []byte(key), HostKeyFingerprints: fps}, nil)
		if err != nil {
			return fmt.Errorf("ssh to %s: %w", ip, err)
		}
		out, err := ssh.Run(ctx, "df -B1 --output=size /var/lib/mysql | tail -n 1", nil)
		ssh.Close()
		if err != nil {
			return fmt.Errorf("df on %s: %w", ip, err)
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return fmt.Errorf("df on %s: %q", ip, out)
		}
		// ext4 keeps a few percent for its metadata.
		if min := wantGiB << 30 * 9 / 10; size < min {
			return fmt.Errorf("df on %s: the datadir filesystem is %d bytes, want about %d GiB", ip, size, wantGiB)
		}
		t.Logf("df on %s: %d MiB", ip, size>>20)
	}
	return nil
}

// checkRootPasswordRotated: root logs in with the new password on every
// node and through the VIP, and with the old one nowhere.
func checkRootPasswordRotated(st cidrsState, oldPassword, newPassword string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, addr := range append(append([]string(nil), st.vip), hostPorts(st.ips)...) {
		db, err := openRoot(addr, newPassword)
		if err != nil {
			return err
		}
		_, err = queryString(ctx, db, "SELECT 1")
		db.Close()
		if err != nil {
			return fmt.Errorf("root with the new password at %s: %w", addr, err)
		}
		old, err := openRoot(addr, oldPassword)
		if err != nil {
			return err
		}
		_, err = queryString(ctx, old, "SELECT 1")
		old.Close()
		if err == nil || !strings.Contains(err.Error(), "1045") {
			return fmt.Errorf("root with the old password at %s: %v, want access denied (1045)", addr, err)
		}
	}
	return nil
}

func hostPorts(ips []string) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, "3306")
	}
	return out
}
