package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

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

// ClustercheckPort is where every node's clustercheck responder listens.
// "/" answers 200 on a node fit for traffic; "/writer" answers 200 only on
// the first fit node in the cluster's fixed node order.
const ClustercheckPort = 9200

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

// CreatePool builds load balancer, listener, pool, health monitor and the
// members (one batch), and opens the members' security group to the load
// balancer. On error the returned pool carries the load balancer id when
// one was made, so DeletePool can clean up.
func (m *Manager) CreatePool(ctx context.Context, s PoolSpec) (*Pool, error) {
	if err := ValidatePoolSpec(s); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	c, err := m.Read(ctx, s.ClusterID, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", s.ClusterID, err)
	}
	if len(c.Nodes) == 0 {
		return nil, fmt.Errorf("cluster %s has no nodes", s.ClusterID)
	}
	if s.VIPSubnetID == "" {
		s.VIPSubnetID, err = m.nodeSubnet(ctx, c)
		if err != nil {
			return nil, err
		}
	}
	lb, err := m.cloud.CreateLoadBalancer(ctx, openstack.LoadBalancerCreate{
		Name:        fmt.Sprintf("%s-%s-%d", ObjectName(c.Name, c.ID), strings.ReplaceAll(s.Mode, "_", "-"), s.Port),
		Description: lbDescription(c.ID, s.Mode, s.HealthCheck),
		VIPSubnetID: s.VIPSubnetID,
	})
	p := &Pool{ClusterID: c.ID, LoadBalancerID: lb.ID, Mode: s.Mode, HealthCheck: s.HealthCheck}
	if err != nil {
		return poolOrNil(p), &PhaseError{Phase: "load balancer", Err: err}
	}
	if lb, err = m.cloud.WaitLoadBalancerActive(ctx, lb.ID); err != nil {
		return p, &PhaseError{Phase: "load balancer", Err: err}
	}
	p.VIPAddress, p.VIPSubnetID, p.VIPPortID = lb.VIPAddress, lb.VIPSubnetID, lb.VIPPortID
	if s.FloatingIPNetwork != "" {
		if err := m.addFloatingIP(ctx, p, s.FloatingIPNetwork); err != nil {
			return p, &PhaseError{Phase: "floating ip", Err: err}
		}
	}
	if err := m.openMembersToLB(ctx, c, p, s); err != nil {
		return p, &PhaseError{Phase: "security group", Err: err}
	}
	l, err := m.cloud.CreateListener(ctx, lb.ID, openstack.ListenerCreate{
		Name: lb.Name + "-mysql", Protocol: "TCP", Port: s.Port,
		TimeoutClientDataMs: s.ClientTimeoutMs, TimeoutMemberDataMs: s.MemberTimeoutMs,
	})
	if err != nil {
		return p, &PhaseError{Phase: "listener", Err: err}
	}
	p.ListenerID = l.ID
	pool, err := m.cloud.CreatePool(ctx, lb.ID, openstack.PoolCreate{
		Name: lb.Name + "-nodes", Protocol: "TCP", LBMethod: s.LBMethod, ListenerID: l.ID,
	})
	if err != nil {
		return p, &PhaseError{Phase: "pool", Err: err}
	}
	p.PoolID = pool.ID
	mon, err := m.cloud.CreateMonitor(ctx, lb.ID, pool.ID, monitorSpec(lb.Name, s))
	if err != nil {
		return p, &PhaseError{Phase: "health monitor", Err: err}
	}
	p.MonitorID = mon.ID
	if err := m.SyncPoolMembers(ctx, p, c); err != nil {
		return p, &PhaseError{Phase: "members", Err: err}
	}
	return m.ReadPool(ctx, lb.ID)
}

// addFloatingIP gives the VIP's port a floating IP on the external network
// networkRef (id or name) and records it in p.
func (m *Manager) addFloatingIP(ctx context.Context, p *Pool, networkRef string) error {
	if p.VIPPortID == "" {
		return fmt.Errorf("load balancer %s reports no VIP port to attach a floating ip to", p.LoadBalancerID)
	}
	n, err := m.cloud.ResolveNetwork(ctx, networkRef)
	if err != nil {
		return fmt.Errorf("find floating ip network %s: %w", networkRef, err)
	}
	f, err := m.cloud.CreateFloatingIP(ctx, n.ID, p.VIPPortID)
	if err != nil {
		return fmt.Errorf("floating ip for VIP %s of load balancer %s: %w", p.VIPAddress, p.LoadBalancerID, err)
	}
	p.FloatingIPAddress, p.FloatingIPID = f.Address, f.ID
	return nil
}

// ResolveNetworkID finds a network by id or name and returns its id.
func (m *Manager) ResolveNetworkID(ctx context.Context, idOrName string) (string, error) {
	n, err := m.cloud.ResolveNetwork(ctx, idOrName)
	if err != nil {
		return "", fmt.Errorf("find network %s: %w", idOrName, err)
	}
	return n.ID, nil
}

// settleTimeout bounds waiting for the first health check verdicts; they
// take a few seconds, so minutes mean the checks cannot pass.
const settleTimeout = 3 * time.Minute

// waitMembersSettled waits until the health monitor has judged every
// member. HAProxy starts new servers UP until enough checks fail, so right
// after a change every node can get connections, even in single_writer
// mode; the pool is ready only once the checks have spoken: one writer in
// single_writer mode, at least one fit node in multi_writer mode.
func (m *Manager) waitMembersSettled(ctx context.Context, p *Pool) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	var last string
	err := openstack.WaitFor(ctx, "health checks of pool "+p.PoolID, func(ctx context.Context) (bool, error) {
		members, err := m.cloud.ListPoolMembers(ctx, p.PoolID)
		if err != nil {
			return false, err
		}
		online, judged := 0, 0
		var states []string
		for _, mem := range members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
			switch mem.OperatingStatus {
			case "ONLINE":
				online++
				judged++
			case "ERROR":
				judged++
			}
		}
		last = strings.Join(states, ", ")
		if judged < len(members) || online == 0 {
			return false, nil
		}
		return p.Mode != ModeSingleWriter || online == 1, nil
	})
	if err != nil {
		return fmt.Errorf("members %s: %w", last, err)
	}
	return nil
}

func poolOrNil(p *Pool) *Pool {
	if p.LoadBalancerID == "" {
		return nil
	}
	return p
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

// nodeSubnet is the subnet of the cluster's first port.
func (m *Manager) nodeSubnet(ctx context.Context, c *Cluster) (string, error) {
	ports, err := m.cloud.ListPorts(ctx, openstack.PortFilter{Description: ownerDescription(c.ID)})
	if err != nil {
		return "", err
	}
	for _, p := range ports {
		if len(p.FixedIPs) > 0 {
			return p.FixedIPs[0].SubnetID, nil
		}
	}
	return "", fmt.Errorf("cluster %s has no port with a subnet: set vip_subnet_id", c.ID)
}

// openMembersToLB lets the load balancer reach MySQL and clustercheck on
// the members: two rules per source, marked as this load balancer's.
func (m *Manager) openMembersToLB(ctx context.Context, c *Cluster, p *Pool, s PoolSpec) error {
	sources := s.MemberSourceCIDRs
	if len(sources) == 0 {
		sub, err := m.cloud.GetSubnet(ctx, p.VIPSubnetID)
		if err != nil {
			return err
		}
		prefix, err := netip.ParsePrefix(sub.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s CIDR %q: %w", sub.ID, sub.CIDR, err)
		}
		sources = []netip.Prefix{prefix}
	}
	ports := []int{portMySQL}
	if s.HealthCheck == HealthGalera {
		ports = append(ports, ClustercheckPort)
	}
	for _, src := range dedupe(sources) {
		for _, port := range ports {
			_, err := m.cloud.CreateSecurityGroupRule(ctx, c.SecurityGroupID, openstack.SecurityGroupRule{
				Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: port, PortMax: port,
				RemoteIPPrefix: src.String(), Description: ruleOwner(p.LoadBalancerID),
			})
			if err != nil {
				return fmt.Errorf("open tcp/%d to %s for load balancer %s: %w", port, src, p.LoadBalancerID, err)
			}
		}
	}
	return nil
}

// DesiredMembers are the pool members the cluster's nodes call for, in node
// order.
func DesiredMembers(c *Cluster, p *Pool, port int) []openstack.MemberSpec {
	nodes := append([]Node(nil), c.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Index < nodes[j].Index })
	specs := make([]openstack.MemberSpec, 0, len(nodes))
	for _, n := range nodes {
		ms := openstack.MemberSpec{Name: n.Name, Address: n.IP, Port: port}
		if p.HealthCheck == HealthGalera {
			ms.MonitorPort = ClustercheckPort
		}
		specs = append(specs, ms)
	}
	return specs
}

// SyncPoolMembers makes the members exactly the cluster's nodes in one
// batch update: one PENDING_UPDATE cycle however many nodes changed.
func (m *Manager) SyncPoolMembers(ctx context.Context, p *Pool, c *Cluster) error {
	port := 0
	if l, err := m.cloud.GetListener(ctx, p.ListenerID); err == nil {
		port = l.Port
	} else {
		return err
	}
	if _, err := m.cloud.SetPoolMembers(ctx, p.LoadBalancerID, p.PoolID, DesiredMembers(c, p, port)); err != nil {
		return err
	}
	return m.waitMembersSettled(ctx, p)
}

// ReadPool observes a load balancer made by CreatePool. ErrNotFound when
// it is gone.
func (m *Manager) ReadPool(ctx context.Context, lbID string) (*Pool, error) {
	lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
	if openstack.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p := &Pool{
		LoadBalancerID: lb.ID, VIPAddress: lb.VIPAddress, VIPSubnetID: lb.VIPSubnetID, VIPPortID: lb.VIPPortID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus,
	}
	p.ClusterID, p.Mode, p.HealthCheck = parseLBDescription(lb.Description)
	if lb.VIPPortID != "" {
		fips, err := m.cloud.ListFloatingIPs(ctx, lb.VIPPortID)
		if err != nil {
			return nil, fmt.Errorf("floating ips of load balancer %s: %w", lb.ID, err)
		}
		if len(fips) > 0 {
			f := fips[0]
			p.FloatingIPAddress, p.FloatingIPID, p.FloatingIPNetworkID = f.Address, f.ID, f.NetworkID
			n, err := m.cloud.ResolveNetwork(ctx, f.NetworkID)
			if err != nil {
				return nil, fmt.Errorf("network of floating ip %s of load balancer %s: %w", f.Address, lb.ID, err)
			}
			p.FloatingIPNetworkName = n.Name
		}
	}
	listeners, err := m.cloud.ListListeners(ctx, lb.ID)
	if err != nil {
		return nil, err
	}
	if len(listeners) > 0 {
		l := listeners[0]
		p.ListenerID, p.PoolID, p.Port = l.ID, l.DefaultPoolID, l.Port
		p.ClientTimeoutMs, p.MemberTimeoutMs = l.TimeoutClientDataMs, l.TimeoutMemberDataMs
	}
	if p.PoolID == "" {
		return p, nil
	}
	pool, err := m.cloud.GetPool(ctx, p.PoolID)
	if err != nil && !openstack.IsNotFound(err) {
		return nil, err
	}
	p.MonitorID, p.LBMethod = pool.MonitorID, pool.LBMethod
	members, err := m.cloud.ListPoolMembers(ctx, p.PoolID)
	if err != nil && !openstack.IsNotFound(err) {
		return nil, err
	}
	for _, mem := range members {
		p.Members = append(p.Members, PoolMember{
			NodeName: mem.Name, Address: mem.Address, MemberID: mem.ID, Backup: mem.Backup, OperatingStatus: mem.OperatingStatus,
		})
	}
	sort.Slice(p.Members, func(i, j int) bool { return p.Members[i].NodeName < p.Members[j].NodeName })
	return p, nil
}

// UpdatePool changes what can change in place: the balancing method and
// the listener's idle timeouts, each one Octavia change.
func (m *Manager) UpdatePool(ctx context.Context, p *Pool, s PoolSpec) error {
	if s.LBMethod != "" && s.LBMethod != p.LBMethod {
		if _, err := m.cloud.UpdatePool(ctx, p.LoadBalancerID, p.PoolID, openstack.PoolUpdate{LBMethod: s.LBMethod}); err != nil {
			return err
		}
	}
	if s.ClientTimeoutMs != p.ClientTimeoutMs || s.MemberTimeoutMs != p.MemberTimeoutMs {
		_, err := m.cloud.UpdateListener(ctx, p.LoadBalancerID, p.ListenerID, openstack.ListenerUpdate{
			TimeoutClientDataMs: &s.ClientTimeoutMs, TimeoutMemberDataMs: &s.MemberTimeoutMs,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DeletePool deletes the floating IPs of the VIP, the load balancer with
// everything under it (cascade) and the security group rules it added.
// Gone counts as deleted.
func (m *Manager) DeletePool(ctx context.Context, lbID, clusterID string) error {
	// Floating IPs outlive their port in Neutron (they are only
	// disassociated), so they go first, while the VIP port still names them.
	lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("read load balancer %s before deleting it: %w", lbID, err)
	}
	if err == nil && lb.VIPPortID != "" {
		fips, err := m.cloud.ListFloatingIPs(ctx, lb.VIPPortID)
		if err != nil {
			return fmt.Errorf("floating ips of load balancer %s: %w", lbID, err)
		}
		for _, f := range fips {
			if err := m.cloud.DeleteFloatingIP(ctx, f.ID); err != nil {
				return fmt.Errorf("delete floating ip %s of load balancer %s: %w", f.Address, lbID, err)
			}
		}
	}
	if err := m.cloud.DeleteLoadBalancer(ctx, lbID, true); err != nil {
		return err
	}
	sgs, err := m.cloud.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{Description: ownerDescription(clusterID)})
	if err != nil {
		return err
	}
	for _, sg := range sgs {
		for _, r := range sg.Rules {
			if r.Description == ruleOwner(lbID) {
				if err := m.cloud.DeleteSecurityGroupRule(ctx, r.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
