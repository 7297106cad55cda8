package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Load balancer modes.
const (
	ModeMultiWriter  = "multi_writer"  // new connections spread over every Synced node
	ModeSingleWriter = "single_writer" // every connection goes to one elected node
)

// Health checks.
const (
	HealthGalera = "galera" // HTTP to the clustercheck responder on each node
	HealthTCP    = "tcp"    // a TCP connect to MySQL: passes on a non-Primary node
)

// Octavia's own default idle timeout (50 s) cuts pooled MySQL connections
// long before MySQL's wait_timeout (8 h); these defaults follow MySQL.
const (
	DefaultClientTimeoutMs = 8 * 3600 * 1000
	DefaultMemberTimeoutMs = 8 * 3600 * 1000
)

// PoolSpec is a load balancer in front of a cluster.
type PoolSpec struct {
	ClusterID   string
	VIPSubnetID string // empty: the subnet of the cluster's ports
	Port        int
	LBMethod    string // ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP
	Mode        string
	HealthCheck string
	// ClientTimeoutMs and MemberTimeoutMs are the listener's idle timeouts.
	ClientTimeoutMs int
	MemberTimeoutMs int
	// MemberSourceCIDRs may reach MySQL and the clustercheck port on the
	// members. Empty: the VIP subnet, since Octavia's amphorae connect from
	// addresses of their own on it that the API does not reveal.
	MemberSourceCIDRs []netip.Prefix
	// FloatingIPNetwork, when set, is the external network (id or name) of
	// a floating IP for the VIP, made once the load balancer is ACTIVE.
	FloatingIPNetwork string
}

// Pool is a load balancer as observed.
type Pool struct {
	ClusterID      string
	LoadBalancerID string
	ListenerID     string
	PoolID         string
	MonitorID      string
	VIPAddress     string
	VIPSubnetID    string
	VIPPortID      string
	// FloatingIPAddress and FloatingIPID are the VIP's floating IP (empty
	// without one).
	FloatingIPAddress string
	FloatingIPID      string
	// FloatingIPNetworkID and FloatingIPNetworkName name the floating IP's
	// network (ReadPool only).
	FloatingIPNetworkID   string
	FloatingIPNetworkName string
	ProvisioningStatus    string
	OperatingStatus       string
	Mode                  string
	HealthCheck           string
	Port                  int
	LBMethod              string
	ClientTimeoutMs       int
	MemberTimeoutMs       int
	Members               []PoolMember
}

// PoolMember is one node in the pool.
type PoolMember struct {
	NodeName        string
	Address         string
	MemberID        string
	Backup          bool
	OperatingStatus string
}

// ValidatePoolSpec refuses combinations that cannot do what they say.
func ValidatePoolSpec(s PoolSpec) error {
	var errs []error
	switch s.Mode {
	case ModeMultiWriter, ModeSingleWriter:
	default:
		errs = append(errs, fmt.Errorf("mode %q: use %s or %s", s.Mode, ModeMultiWriter, ModeSingleWriter))
	}
	switch s.HealthCheck {
	case HealthGalera, HealthTCP:
	default:
		errs = append(errs, fmt.Errorf("health_check %q: use %s or %s", s.HealthCheck, HealthGalera, HealthTCP))
	}
	if s.Mode == ModeSingleWriter && s.HealthCheck == HealthTCP {
		errs = append(errs, errors.New("single_writer needs health_check = \"galera\": with a TCP check Octavia's `option allbackups` sends writes to every backup when the writer fails"))
	}
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is not a TCP port", s.Port))
	}
	return errors.Join(errs...)
}

func lbDescription(clusterID, mode, health string) string {
	return fmt.Sprintf("pxc_cluster %s mode=%s health_check=%s", clusterID, mode, health)
}

func parseLBDescription(d string) (clusterID, mode, health string) {
	for i, f := range strings.Fields(d) {
		switch {
		case i == 1 && strings.HasPrefix(d, "pxc_cluster "):
			clusterID = f
		case strings.HasPrefix(f, "mode="):
			mode = strings.TrimPrefix(f, "mode=")
		case strings.HasPrefix(f, "health_check="):
			health = strings.TrimPrefix(f, "health_check=")
		}
	}
	return clusterID, mode, health
}

// ruleOwner marks the security group rules a load balancer added.
func ruleOwner(lbID string) string { return "pxc_lb " + lbID }

func poolOrNil(p *Pool) *Pool {
	if p.LoadBalancerID == "" {
		return nil
	}
	return p
}

// DesiredMembers are the pool members the cluster's nodes call for, in node
// order.
func DesiredMembers(c *Cluster, p *Pool, port int) []openstack.MemberSpec {
	nodes := append([]Node(nil), c.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Index < nodes[j].Index })
	specs := make([]openstack.MemberSpec, 0, len(nodes))
	for _, n := range nodes {
		if n.Kind == KindArbitrator { // no SQL to balance
			continue
		}
		ms := openstack.MemberSpec{Name: n.Name, Address: n.IP, Port: port}
		if p.HealthCheck == HealthGalera {
			ms.MonitorPort = ClustercheckPort
		}
		specs = append(specs, ms)
	}
	return specs
}

// monitorSpec checks members fast enough that a failed writer is out of
// rotation within about two seconds (fall 2 at 1 s), and the next one
// takes over after one good check (rise 1).
func monitorSpec(name string, s PoolSpec) openstack.MonitorSpec {
	if s.HealthCheck == HealthTCP {
		return openstack.MonitorSpec{Name: name + "-tcp", Type: "TCP", DelaySeconds: 1, TimeoutSeconds: 1, MaxRetries: 2, MaxRetriesDown: 2}
	}
	path := "/"
	if s.Mode == ModeSingleWriter {
		path = "/writer"
	}
	return openstack.MonitorSpec{
		Name: name + "-clustercheck", Type: "HTTP", DelaySeconds: 1, TimeoutSeconds: 1, MaxRetries: 1, MaxRetriesDown: 2,
		HTTPMethod: "GET", URLPath: path, ExpectedCodes: "200",
	}
}
