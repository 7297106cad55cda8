package provider

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The acceptance tests run against the local cloud that `make test` starts
// (tools/localcloud.sh): its env file exports OS_* and LOCALCLOUD_*. They
// never skip in CI: a missing cloud is a failure with a clear message.

type localCloud struct {
	adminURL string
	gateway  string // this machine's address on the cloud network
	subnet   string // the network's CIDR
	network  string
	image    string
}

func requireLocalCloud(t *testing.T) localCloud {
	t.Helper()
	testAccPreCheck(t)
	lc := localCloud{
		adminURL: os.Getenv("LOCALCLOUD_ADMIN_URL"),
		gateway:  os.Getenv("LOCALCLOUD_GATEWAY"),
		subnet:   os.Getenv("LOCALCLOUD_SUBNET_CIDR"),
		image:    os.Getenv("LOCALCLOUD_IMAGE_NAME"),
		network:  "private",
	}
	if lc.adminURL == "" || os.Getenv("OS_AUTH_URL") == "" {
		t.Fatal("the local cloud is not up: run `make localcloud-up` and source .localcloud/env (make test does both)")
	}
	if lc.image == "" {
		lc.image = "debian-12-mariadb-galera"
	}
	// A fault left by a failed test must not hit this one.
	lc.admin(t, http.MethodDelete, "/faults", nil)
	return lc
}

func (lc localCloud) admin(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, lc.adminURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("local cloud admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("local cloud admin %s %s: %s: %s", method, path, resp.Status, out.String())
	}
	return out.Bytes()
}

type inventory struct {
	Servers        []json.RawMessage `json:"servers"`
	Volumes        []json.RawMessage `json:"volumes"`
	Ports          []json.RawMessage `json:"ports"`
	SecurityGroups []json.RawMessage `json:"security_groups"`
	ServerGroups   []json.RawMessage `json:"server_groups"`
	KeyPairs       []json.RawMessage `json:"keypairs"`
	LoadBalancers  []json.RawMessage `json:"load_balancers"`
	FloatingIPs    []json.RawMessage `json:"floating_ips"`
	Hosts          int               `json:"hosts"`
	Disks          int               `json:"disks"`
}

// checkNothingLeft asks the local cloud itself whether anything at all is
// left: objects, hosts, disks. Tests run beside each other (and the fault
// matrix beside other passes), so no test uses it after its own destroy
// (they use checkNothingLeftOf): TestAccLocalCloudLeftEmpty runs it once,
// when make test is done with the cloud.
func (lc localCloud) checkNothingLeft(t *testing.T) func(*terraform.State) error {
	return func(*terraform.State) error {
		var inv inventory
		if err := json.Unmarshal(lc.admin(t, http.MethodGet, "/inventory", nil), &inv); err != nil {
			return fmt.Errorf("read local cloud inventory: %w", err)
		}
		left := map[string]int{
			"servers": len(inv.Servers), "volumes": len(inv.Volumes), "ports": len(inv.Ports),
			"security groups": len(inv.SecurityGroups), "server groups": len(inv.ServerGroups),
			"keypairs": len(inv.KeyPairs), "load balancers": len(inv.LoadBalancers), "floating ips": len(inv.FloatingIPs),
			"hosts": inv.Hosts, "disks": inv.Disks,
		}
		var parts []string
		for what, n := range left {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, what))
			}
		}
		if len(parts) > 0 {
			return fmt.Errorf("left behind in the cloud after destroy: %s", strings.Join(parts, ", "))
		}
		return nil
	}
}

// checkNothingLeftOf is every acceptance test's check after its destroy:
// only the objects whose fields name the test's cluster count, since other
// tests' clusters exist meanwhile. Hosts and disks carry no names:
// TestAccLocalCloudLeftEmpty, at the end of make test, and the local
// cloud's own tests cover those.
func (lc localCloud) checkNothingLeftOf(t *testing.T, name string) func(*terraform.State) error {
	return func(*terraform.State) error {
		var inv inventory
		if err := json.Unmarshal(lc.admin(t, http.MethodGet, "/inventory", nil), &inv); err != nil {
			return fmt.Errorf("read local cloud inventory: %w", err)
		}
		var parts []string
		for what, objs := range map[string][]json.RawMessage{
			"servers": inv.Servers, "volumes": inv.Volumes, "ports": inv.Ports, "security groups": inv.SecurityGroups,
			"server groups": inv.ServerGroups, "keypairs": inv.KeyPairs, "load balancers": inv.LoadBalancers, "floating ips": inv.FloatingIPs,
		} {
			n := 0
			for _, o := range objs {
				if strings.Contains(string(o), name) {
					n++
				}
			}
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, what))
			}
		}
		if len(parts) > 0 {
			sort.Strings(parts)
			return fmt.Errorf("left behind in the cloud after destroy, naming %s: %s", name, strings.Join(parts, ", "))
		}
		return nil
	}
}

// openRoot opens a root connection to one node, straight from this machine
// (the cluster's allowed_cidrs must include it).
func openRoot(addr, password string) (*sql.DB, error) {
	return openRootWaiting(addr, password, 10*time.Second)
}

// openRootWaiting is openRoot for statements that take long on their own
// (a bulk insert of tens of MB, replicated before its commit returns):
// the driver gives up on a read after readTimeout.
func openRootWaiting(addr, password string, readTimeout time.Duration) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Passwd = password
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = readTimeout
	cfg.WriteTimeout = 10 * time.Second
	// TLS when the server offers it (required by default, issue 14),
	// unverified: these checks are about data; cluster_tls checks trust.
	cfg.TLSConfig = "preferred"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

func stateAttr(s *terraform.State, resource, key string) (string, error) {
	rs, ok := s.RootModule().Resources[resource]
	if !ok {
		return "", fmt.Errorf("%s not in state", resource)
	}
	v, ok := rs.Primary.Attributes[key]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s", resource, key)
	}
	return v, nil
}

func queryString(ctx context.Context, db *sql.DB, q string, args ...any) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, q, args...).Scan(&v)
	return v, err
}

// accOpenStackClient talks to the local cloud the way an operator's CLI
// would, to change things behind Terraform's back.
func accOpenStackClient(t *testing.T) *openstack.Client {
	t.Helper()
	cl, err := openstack.NewClient(openstack.Config{
		AuthURL:           os.Getenv("OS_AUTH_URL"),
		UserName:          os.Getenv("OS_USERNAME"),
		Password:          os.Getenv("OS_PASSWORD"),
		ProjectName:       os.Getenv("OS_PROJECT_NAME"),
		UserDomainName:    os.Getenv("OS_USER_DOMAIN_NAME"),
		ProjectDomainName: os.Getenv("OS_PROJECT_DOMAIN_NAME"),
		Region:            os.Getenv("OS_REGION_NAME"),
		MaxRetries:        3,
	})
	if err != nil {
		t.Fatalf("OpenStack client for the local cloud: %v", err)
	}
	return cl
}
