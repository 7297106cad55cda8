package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// tlsAccConfig is a 3-node MariaDB cluster (rsync SST: stunnel when
// encrypted) behind a single-writer pool, with the given TLS mode and
// server certificate validity.
func (lc localCloud) tlsAccConfig(name, mode string, validityDays int) string {
	return fmt.Sprintf(`
resource "pxc_cluster" "test" {
  name = %[1]q
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  flavor        = "m1.small"
  image         = %[2]q
  network       = %[3]q
  volume        = { size = 1 }
  sst_method    = "rsync"
  parameters    = { innodb_buffer_pool_size = "64M" }
  allowed_cidrs = [%[4]q, %[5]q]
  tls = {
    mode                      = %[6]q
    server_cert_validity_days = %[7]d
  }
}

resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`, name, lc.image, lc.network, lc.gateway+"/32", lc.subnet, mode, validityDays)
}

// TLS on a running cluster, chained on one cluster behind a single-writer
// pool with writes through its VIP during every apply (none lost, every
// node Synced, the plan empty after: the framework's own check):
//  1. TLS disabled: a packet capture on the cloud's bridge finds a marker
//     written through the VIP and replicated (the capture works).
//  2. tls.mode = "required" (two rolling restarts): a new marker, then a
//     forced SST of a reader, all while capturing: the marker is found
//     nowhere, though replication and SST traffic crossed the bridge. A
//     client verifying ca_certificate and the cluster's name connects
//     through the VIP; a plain one is refused.
//  3. server_cert_validity_days changes: every node presents a new
//     certificate, no server restarted.
func TestAccClusterTLS(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "acctls-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	bridge, err := galeratest.InterfaceWithAddress(lc.gateway)
	if err != nil {
		t.Fatal(err)
	}
	w := &dayTwoWrites{atOnce: true}
	t.Cleanup(func() { w.stop() })
	var applyStarted time.Time
	var uptimes map[string]int64
	serials := map[string]string{}
	onState := func(check func(s *terraform.State, st cidrsState) error) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			st, err := readCIDRsState(s)
			if err != nil {
				return err
			}
			return check(s, st)
		}
	}
	startWrites := func(table string) resource.TestCheckFunc {
		return onState(func(_ *terraform.State, st cidrsState) (err error) {
			if uptimes, err = serverUptimes(st); err != nil {
				return err
			}
			return w.start(st, table)
		})
	}
	checkWrites := func(what string) resource.TestCheckFunc {
		return onState(func(_ *terraform.State, st cidrsState) error { return w.check(t, st, what, applyStarted, vipMaxGap) })
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
				Config: lc.tlsAccConfig(name, "disabled", 365),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("pxc_cluster.test", "ca_certificate", ""),
					// The writes first: they make the application account.
					startWrites("acc.tls_on"),
					onState(func(s *terraform.State, st cidrsState) error {
						r, err := captureMarker(t, bridge, st, "plain-marker-"+name, nil)
						if err != nil {
							return err
						}
						if r.Hits == 0 {
							return fmt.Errorf("without TLS the capture must find the replicated marker: %s", r)
						}
						return nil
					}),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.tlsAccConfig(name, "required", 365),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("TLS turned on"),
					resource.TestMatchResourceAttr("pxc_cluster.test", "ca_certificate", regexp.MustCompile(`^-----BEGIN CERTIFICATE-----`)),
					onState(func(s *terraform.State, st cidrsState) error {
						sst := func() error { return forceSST(t, s, st) }
						r, err := captureMarker(t, bridge, st, "tls-marker-"+name, sst)
						if err != nil {
							return err
						}
						if r.Hits != 0 || r.PortBytes[4567] == 0 || r.PortBytes[4444] == 0 {
							return fmt.Errorf("with TLS, over replication and a forced SST: %s; want the marker nowhere, replication and SST traffic seen", r)
						}
						return checkVIPClients(s, st, name)
					}),
					onState(func(_ *terraform.State, st cidrsState) error { return nodeSerials(st, serials) }),
					startWrites("acc.tls_renew"),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.tlsAccConfig(name, "required", 200),
				ConfigPlanChecks: update,
				Check: resource.ComposeTestCheckFunc(
					checkWrites("certificates renewed"),
					onState(func(_ *terraform.State, st cidrsState) error {
						if err := checkNoRestart(st, uptimes); err != nil {
							return err
						}
						before := map[string]string{}
						for k, v := range serials {
							before[k] = v
						}
						if err := nodeSerials(st, serials); err != nil {
							return err
						}
						for ip, serial := range serials {
							if serial == before[ip] {
								return fmt.Errorf("node %s still presents certificate %s after the renewal", ip, serial)
							}
						}
						return nil
					}),
				),
			},
		},
	})
}

// captureMarker captures on the cloud's bridge while it writes marker
// through the VIP, reads it back on every node, and runs during (when
// set) before the capture stops.
func captureMarker(t *testing.T, bridge string, st cidrsState, marker string, during func() error) (galeratest.CaptureResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	capt, err := galeratest.StartCapture(bridge, []byte(marker))
	if err != nil {
		return galeratest.CaptureResult{}, err
	}
	stopped := false
	defer func() {
		if !stopped {
			capt.Stop() //nolint:errcheck // an earlier error is reported
		}
	}()
	app, err := galeratest.Open(st.vip, cidrsAppUser, cidrsAppPass)
	if err != nil {
		return galeratest.CaptureResult{}, err
	}
	defer app.Close()
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS acc.tls_marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(128)) ENGINE=InnoDB",
		"INSERT INTO acc.tls_marker (v) VALUES ('" + marker + "')",
	} {
		if _, err := app.ExecContext(ctx, q); err != nil {
			return galeratest.CaptureResult{}, fmt.Errorf("through the VIP: %s: %w", q, err)
		}
	}
	for _, ip := range st.ips {
		if err := markerOn(ctx, ip, st.password, marker); err != nil {
			return galeratest.CaptureResult{}, err
		}
	}
	if during != nil {
		if err := during(); err != nil {
			return galeratest.CaptureResult{}, err
		}
	}
	time.Sleep(time.Second)
	stopped = true
	r, err := capt.Stop()
	t.Logf("capture of %s on %s: %s", marker, bridge, r)
	return r, err
}

// markerOn reads marker on the node at ip (a causal read: it waits for the
// node to apply what the cluster committed).
func markerOn(ctx context.Context, ip, password, marker string) error {
	db, err := openRoot(net.JoinHostPort(ip, "3306"), password)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("node %s: %w", ip, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		return fmt.Errorf("node %s: %w", ip, err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM acc.tls_marker WHERE v = ?", marker).Scan(&n); err != nil || n != 1 {
		return fmt.Errorf("node %s has %d rows of the marker (%v)", ip, n, err)
	}
	return nil
}

// forceSST makes a reader (a node the VIP does not send to) receive a full
// state transfer: its mysqld stops cleanly, its grastate.dat goes, and it
// starts again; it must come back Synced with the marker.
func forceSST(t *testing.T, s *terraform.State, st cidrsState) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vip, err := openRoot(st.vip, st.password)
	if err != nil {
		return err
	}
	writer, err := galeratest.NodeOf(ctx, vip)
	vip.Close()
	if err != nil {
		return fmt.Errorf("the writer behind the VIP: %w", err)
	}
	for i, ip := range st.ips {
		node := fmt.Sprintf("%s-%d", s.RootModule().Resources["pxc_cluster.test"].Primary.Attributes["name"], i+1)
		if node == writer {
			continue
		}
		// Through the unit on a systemd guest, as the library starts it
		// (mysqld_safe) on one without.
		out, err := nodeShell(ctx, t, s, i, ip, "if [ -d /run/systemd/system ]; then systemctl stop mariadb && rm -f /var/lib/mysql/grastate.dat && "+
			"systemctl start --no-block mariadb; else mariadb-admin shutdown && rm -f /var/lib/mysql/grastate.dat && "+
			"(setsid /usr/bin/mysqld_safe </dev/null >/dev/null 2>&1 &); fi && echo restarted")
		if err != nil || !strings.Contains(out, "restarted") {
			return fmt.Errorf("force an SST of %s: %q %v", node, out, err)
		}
		err = eventually(ctx, 4*time.Minute, func() error {
			db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
			if err != nil {
				return err
			}
			defer db.Close()
			state, err := queryString(ctx, db, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_local_state_comment'")
			if err != nil || state != "Synced" {
				return fmt.Errorf("%s is %q after its SST (%v)", node, state, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		log, err := nodeShell(ctx, t, s, i, ip, "grep -c 'Using stunnel for SSL encryption' /var/log/mysql/error.log || true")
		if err != nil {
			return err
		}
		t.Logf("forced SST of %s: Synced again; stunnel used %s time(s)", node, strings.TrimSpace(log))
		if strings.TrimSpace(log) == "0" {
			return fmt.Errorf("the SST of %s did not go through stunnel", node)
		}
		return nil
	}
	return fmt.Errorf("no reader found (writer %s)", writer)
}

// nodeShell runs a command as root on node i over SSH, its host key
// checked against the fingerprints on its console.
func nodeShell(ctx context.Context, t *testing.T, s *terraform.State, i int, ip, cmd string) (string, error) {
	key, err := stateAttr(s, "pxc_cluster.test", "generated_private_key")
	if err != nil {
		return "", err
	}
	serverID, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.id", i))
	if err != nil {
		return "", err
	}
	console, err := accOpenStackClient(t).ConsoleOutput(ctx, serverID, 0)
	if err != nil {
		return "", err
	}
	fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`).FindAllString(console, -1)
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: ip, User: "root", PrivateKey: []byte(key), HostKeyFingerprints: fps}, nil)
	if err != nil {
		return "", fmt.Errorf("ssh to %s: %w", ip, err)
	}
	defer cl.Close()
	out, err := cl.Run(ctx, cmd, nil)
	return string(out), err
}

// checkVIPClients: through the VIP, a client that verifies the server
// against ca_certificate and the cluster's name gets in over TLS, and a
// plain one is refused.
func checkVIPClients(s *terraform.State, st cidrsState, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ca, err := stateAttr(s, "pxc_cluster.test", "ca_certificate")
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca)) {
		return fmt.Errorf("ca_certificate holds no certificate")
	}
	verified, err := galeratest.OpenTLS(st.vip, cidrsAppUser, cidrsAppPass, &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer verified.Close()
	var cipher string
	if err := verified.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(new(string), &cipher); err != nil || cipher == "" {
		return fmt.Errorf("a client verifying ca_certificate through the VIP: cipher %q, %v", cipher, err)
	}
	plain, err := galeratest.OpenTLS(st.vip, cidrsAppUser, cidrsAppPass, nil)
	if err != nil {
		return err
	}
	defer plain.Close()
	if err := plain.PingContext(ctx); err == nil {
		return fmt.Errorf("a plain connection through the VIP was let in with tls.mode = required")
	}
	return nil
}

// nodeSerials records the serial of the certificate each node presents on
// 3306, by address.
func nodeSerials(st cidrsState, into map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ip := range st.ips {
		c, err := galeratest.ServerCertificate(ctx, net.JoinHostPort(ip, "3306"), nil)
		if err != nil {
			return err
		}
		into[ip] = c.SerialNumber.String()
	}
	return nil
}
