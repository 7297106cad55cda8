package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// credentialsLog records every account pxc_credentials hands out in this
// test process, so the checks can look for the passwords in plan and state.
type credentialsLog struct {
	mu       sync.Mutex
	accounts map[string]string // username -> password
}

func watchCredentials(t *testing.T) *credentialsLog {
	l := &credentialsLog{accounts: map[string]string{}}
	credentialsOpened = func(u, p string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.accounts[u] = p
	}
	t.Cleanup(func() { credentialsOpened = func(string, string) {} })
	return l
}

func (l *credentialsLog) snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for u, p := range l.accounts {
		out[u] = p
	}
	return out
}

// notIn fails when any password handed out so far occurs in doc.
func (l *credentialsLog) notIn(what string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	for u, p := range l.snapshot() {
		if strings.Contains(string(b), p) {
			return fmt.Errorf("the password of %s is in the %s", u, what)
		}
	}
	return nil
}

type passwordNotInPlan struct{ l *credentialsLog }

func (c passwordNotInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.l.notIn("plan JSON", req.Plan)
}

type passwordNotInState struct{ l *credentialsLog }

func (c passwordNotInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if len(c.l.snapshot()) == 0 {
		resp.Error = fmt.Errorf("pxc_credentials was never opened")
		return
	}
	resp.Error = c.l.notIn("state JSON", req.State)
}

// credentialsConfig: a cluster, a single-writer pool, temporary
// credentials for the pool's address and a probe that uses them during
// the apply. Terraform lets ephemeral values into provisioners only (not
// into a resource's arguments), so the probe is a local-exec running the
// MariaDB client through the VIP; its output file is what the checks read.
// root may log in from the cloud's subnet, where this machine is.
func (lc localCloud) credentialsConfig(name, probeFile string) string {
	cluster := strings.Replace(lc.accClusterConfig(name, ""), fmt.Sprintf("[%q]", lc.gateway+"/32"), fmt.Sprintf("[%q]", lc.subnet), 1)
	return cluster + fmt.Sprintf(`
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}

ephemeral "pxc_credentials" "app" {
  cluster_id      = pxc_cluster.test.id
  root_password   = pxc_cluster.test.root_password
  ssh_private_key = pxc_cluster.test.generated_private_key
  grants = [
    { privileges = ["create", "insert", "select"], on = "credtest.*" },
  ]
  ttl     = "10m"
  address = pxc_lb_pool.single.vip_address
}

resource "terraform_data" "probe" {
  provisioner "local-exec" {
    # The pool's members come up after their first health checks.
    command = <<-EOT
      for i in $(seq 60); do
        mariadb --protocol=TCP --connect-timeout=5 -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -B -e "$SQL" > %[1]q && exit 0
        sleep 2
      done
      exit 1
    EOT
    environment = {
      DB_HOST   = ephemeral.pxc_credentials.app.host
      DB_PORT   = ephemeral.pxc_credentials.app.port
      DB_USER   = ephemeral.pxc_credentials.app.username
      MYSQL_PWD = ephemeral.pxc_credentials.app.password
      SQL       = "CREATE DATABASE IF NOT EXISTS credtest; CREATE TABLE IF NOT EXISTS credtest.t (id INT PRIMARY KEY); INSERT IGNORE INTO credtest.t VALUES (1); SELECT CURRENT_USER(), @@wsrep_node_name, (SELECT COUNT(*) FROM credtest.t)"
    }
  }
}
`, probeFile)
}

// temporaryAccounts lists the tf_ accounts on the writer, as root.
func temporaryAccounts(s *terraform.State) ([]string, error) {
	password, err := stateAttr(s, "pxc_cluster.test", "root_password")
	if err != nil {
		return nil, err
	}
	ip, err := stateAttr(s, "pxc_cluster.test", "ips.0")
	if err != nil {
		return nil, err
	}
	db, err := openRoot(net.JoinHostPort(ip, "3306"), password)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User LIKE 'tf\_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Opening pxc_credentials gives an account that works through the VIP and
// reaches the writer the cluster reports; after the run it is gone, its
// password in neither plan nor state; an expired account left by an
// interrupted run is dropped by the next open.
func TestAccCredentialsEphemeral(t *testing.T) {
	lc := requireLocalCloud(t)
	name := "acccr-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	probe := filepath.Join(t.TempDir(), "probe.tsv")
	opened := watchCredentials(t)
	var rootPassword, nodeIP string
	const leftover = "tf_1000000000_deadbeef"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.credentialsConfig(name, probe),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{passwordNotInPlan{opened}},
					PostApplyPostRefresh: []plancheck.PlanCheck{passwordNotInPlan{opened}, plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{passwordNotInState{opened}},
				Check: func(s *terraform.State) error {
					out, err := os.ReadFile(probe)
					if err != nil {
						return fmt.Errorf("the probe did not log in: %w", err)
					}
					fields := strings.Fields(string(out))
					if len(fields) != 3 || fields[2] != "1" {
						return fmt.Errorf("probe output %q, want user, node and 1 row", out)
					}
					user, _, _ := strings.Cut(fields[0], "@")
					if _, ok := opened.snapshot()[user]; !ok {
						return fmt.Errorf("the probe logged in as %s, not an account pxc_credentials handed out", fields[0])
					}
					writer, err := stateAttr(s, "pxc_cluster.test", "writer")
					if err != nil {
						return err
					}
					if fields[1] != writer {
						return fmt.Errorf("the VIP sent the probe to %s, but pxc_cluster.writer is %q", fields[1], writer)
					}
					for i := 0; i < 3; i++ {
						node, _ := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.name", i))
						role, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.role", i))
						if err != nil {
							return err
						}
						if want := map[bool]string{true: "writer", false: "reader"}[node == writer]; role != want {
							return fmt.Errorf("%s has role %q, want %q", node, role, want)
						}
					}
					left, err := temporaryAccounts(s)
					if err != nil {
						return err
					}
					if len(left) != 0 {
						return fmt.Errorf("temporary accounts left after the run: %v", left)
					}
					rootPassword, _ = stateAttr(s, "pxc_cluster.test", "root_password")
					nodeIP, err = stateAttr(s, "pxc_cluster.test", "ips.1")
					return err
				},
			},
			{
				// An account an interrupted run left behind, long expired.
				PreConfig: func() {
					db, err := openRoot(net.JoinHostPort(nodeIP, "3306"), rootPassword)
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					if _, err := db.Exec("CREATE USER '" + leftover + "'@'%' IDENTIFIED BY 'left-behind-1'"); err != nil {
						t.Fatal(err)
					}
				},
				Config: lc.credentialsConfig(name, probe),
				Check: func(s *terraform.State) error {
					left, err := temporaryAccounts(s)
					if err != nil {
						return err
					}
					if len(left) != 0 {
						return fmt.Errorf("accounts after the next open: %v, want the expired %s dropped too", left, leftover)
					}
					return nil
				},
			},
		},
	})
}
