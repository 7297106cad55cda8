package cluster

import (
	"context"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Manager runs cluster lifecycles against one cloud.
type Manager struct {
	cloud  Cloud
	guests Guests
	log    Logger
}

// NewManager returns a manager for the cloud (an *openstack.Client in
// production); log may be nil.
func NewManager(cloud Cloud, log Logger) *Manager {
	return newManager(cloud, libraryGuests{}, log)
}

func newManager(cloud Cloud, guests Guests, log Logger) *Manager {
	if log == nil {
		log = nopLogger{}
	}
	return &Manager{cloud: cloud, guests: guests, log: log}
}

// Cloud is every OpenStack call the lifecycle makes, one interface per
// service so a test fake or another cloud implements exactly these.
type Cloud interface {
	Compute
	Network
	BlockStorage
	Images
	LoadBalancing
}

// Compute is what the lifecycle asks of Nova.
type Compute interface {
	ResolveFlavor(ctx context.Context, idOrName string) (openstack.Flavor, error)
	ImportKeyPair(ctx context.Context, name, publicKey string) (openstack.KeyPair, error)
	GetKeyPair(ctx context.Context, name string) (openstack.KeyPair, error)
	DeleteKeyPair(ctx context.Context, name string) error
	ListKeyPairs(ctx context.Context) ([]openstack.KeyPair, error)
	CreateServerGroup(ctx context.Context, name, policy string) (openstack.ServerGroup, error)
	DeleteServerGroup(ctx context.Context, id string) error
	ListServerGroups(ctx context.Context) ([]openstack.ServerGroup, error)
	CreateServer(ctx context.Context, in openstack.ServerCreate) (openstack.Server, error)
	WaitServerActive(ctx context.Context, id string) (openstack.Server, error)
	StartServer(ctx context.Context, id string) (openstack.Server, error)
	ListServers(ctx context.Context, namePrefix string, match map[string]string) ([]openstack.Server, error)
	DeleteServer(ctx context.Context, id string) error
	ConsoleOutput(ctx context.Context, id string, lines int) (string, error)
	StartVolumeAttach(ctx context.Context, serverID, volumeID string) (openstack.VolumeAttachment, error)
	WaitVolumeAttached(ctx context.Context, serverID, volumeID string) error
	DetachVolume(ctx context.Context, serverID, volumeID string) error
	// Rolling server changes (roll_flavor.go, roll_image.go); each waits
	// for Nova's end state.
	ResizeServer(ctx context.Context, id, flavorID string) (openstack.Server, error)
	ConfirmResize(ctx context.Context, id string) (openstack.Server, error)
	RevertResize(ctx context.Context, id string) (openstack.Server, error)
	RebuildServer(ctx context.Context, id, imageID string) (openstack.Server, error)
	UpdateServerMetadata(ctx context.Context, id string, meta map[string]string) error
}

// Network is what the lifecycle asks of Neutron.
type Network interface {
	ResolveNetwork(ctx context.Context, idOrName string) (openstack.Network, error)
	GetSubnet(ctx context.Context, id string) (openstack.Subnet, error)
	CreateSecurityGroup(ctx context.Context, name, description string, tags []string) (openstack.SecurityGroup, error)
	GetSecurityGroup(ctx context.Context, id string) (openstack.SecurityGroup, error)
	ListSecurityGroups(ctx context.Context, f openstack.SecurityGroupFilter) ([]openstack.SecurityGroup, error)
	DeleteSecurityGroup(ctx context.Context, id string) error
	CreateSecurityGroupRule(ctx context.Context, groupID string, r openstack.SecurityGroupRule) (openstack.SecurityGroupRule, error)
	CreateSecurityGroupRules(ctx context.Context, groupID string, rs []openstack.SecurityGroupRule) ([]openstack.SecurityGroupRule, error)
	DeleteSecurityGroupRule(ctx context.Context, id string) error
	CreatePort(ctx context.Context, in openstack.PortCreate) (openstack.Port, error)
	ListPorts(ctx context.Context, f openstack.PortFilter) ([]openstack.Port, error)
	DeletePort(ctx context.Context, id string) error
	CreateFloatingIP(ctx context.Context, networkID, portID string) (openstack.FloatingIP, error)
	ListFloatingIPs(ctx context.Context, portID string) ([]openstack.FloatingIP, error)
	DeleteFloatingIP(ctx context.Context, id string) error
}

// BlockStorage is what the lifecycle asks of Cinder.
type BlockStorage interface {
	CreateVolume(ctx context.Context, in openstack.VolumeCreate) (openstack.Volume, error)
	ListVolumes(ctx context.Context, namePrefix string, match map[string]string) ([]openstack.Volume, error)
	DeleteVolume(ctx context.Context, id string) error
	// ExtendVolume grows a volume, attached or not (microversion 3.42),
	// and waits for the new size.
	ExtendVolume(ctx context.Context, id string, newSizeGiB int) error
}

// Images is what the lifecycle asks of Glance.
type Images interface {
	ResolveImage(ctx context.Context, idOrName string) (openstack.Image, error)
}

// LoadBalancing is what a pool asks of Octavia.
type LoadBalancing interface {
	StartLoadBalancer(ctx context.Context, in openstack.LoadBalancerCreate) (openstack.LoadBalancer, error)
	WaitLoadBalancerActive(ctx context.Context, id string) (openstack.LoadBalancer, error)
	GetLoadBalancer(ctx context.Context, id string) (openstack.LoadBalancer, error)
	ListLoadBalancers(ctx context.Context, name string) ([]openstack.LoadBalancer, error)
	GetLoadBalancerStatus(ctx context.Context, id string) (openstack.LoadBalancerStatus, error)
	DeleteLoadBalancer(ctx context.Context, id string, cascade bool) error
	GetListener(ctx context.Context, id string) (openstack.Listener, error)
	ListListeners(ctx context.Context, lbID string) ([]openstack.Listener, error)
	UpdateListener(ctx context.Context, lbID, id string, in openstack.ListenerUpdate) (openstack.Listener, error)
	GetPool(ctx context.Context, id string) (openstack.Pool, error)
	UpdatePool(ctx context.Context, lbID, id string, in openstack.PoolUpdate) (openstack.Pool, error)
	SetPoolMembers(ctx context.Context, lbID, poolID string, members []openstack.MemberSpec) ([]openstack.Member, error)
	ListPoolMembers(ctx context.Context, poolID string) ([]openstack.Member, error)
}

// Guests is what the lifecycle asks of the servers themselves, through
// the guest library (guests.go); tests drive a fake.
type Guests interface {
	// HostKey connects to t, runs a no-op and returns the host key the
	// server presented (checked as t says).
	HostKey(ctx context.Context, t guest.SSHTarget) (ssh.PublicKey, error)
	// StoredRootPassword reads the root password a node keeps for its
	// local client (a write-only password is in no state).
	StoredRootPassword(ctx context.Context, t guest.SSHTarget) (string, error)
	// Open gives the guest library's handle on a cluster.
	Open(spec guest.ClusterSpec, obs guest.Observer) (GuestCluster, error)
}

// GuestCluster is the part of *guest.Cluster the lifecycle uses.
type GuestCluster interface {
	Create(ctx context.Context, users ...guest.User) (guest.Status, error)
	Status(ctx context.Context) (guest.Status, error)
	EnsureUsers(ctx context.Context, users ...guest.User) error
	DropUsers(ctx context.Context, users ...guest.User) error
	// Health, RepairNode, Survey and Recover are the self-repair (repair.go).
	Health(ctx context.Context) ([]guest.NodeHealth, error)
	RepairNode(ctx context.Context, name string) error
	Survey(ctx context.Context) ([]guest.NodeRecovery, error)
	Recover(ctx context.Context, force string) (guest.Decision, error)
	// Day-2 changes without a restart (settings.go).
	StaticVariables(ctx context.Context, names []string) ([]string, error)
	ApplySettings(ctx context.Context, ch guest.SettingsChange) error
	RotateRootPassword(ctx context.Context, users ...guest.User) error
	GrowFilesystem(ctx context.Context, node string, minBytes int64) (int64, error)
	RestartMember(ctx context.Context, name string) error
	StopNode(ctx context.Context, name string) error
	// TLS of a running cluster (tls_change.go).
	EnsureTLSFiles(ctx context.Context, name string) error
	WriteCABundle(ctx context.Context, name, bundle string) error
	ReloadTLS(ctx context.Context, name string) error
	CertificateExpiry(ctx context.Context) (map[string]time.Time, error)
	// Membership of a running cluster (membership.go, handover.go).
	JoinMember(ctx context.Context, name string) error
	Leave(ctx context.Context, name string) error
	MoveWriter(ctx context.Context, away string) (string, error)
	DrainClients(ctx context.Context, name string, quiet, timeout time.Duration) error
	// Arbitrators (garbd) of a running cluster (node.go).
	StartArbitrator(ctx context.Context, name string) error
	StopArbitrator(ctx context.Context, name string) error
	Close() error
}

// Event is one progress report ("node 2/3 joined, Synced, 21s").
type Event struct {
	Phase    string
	Node     string
	Message  string
	Duration time.Duration
}

// Logger receives progress and warnings. Messages never contain secrets.
type Logger interface {
	Progress(ctx context.Context, e Event)
	Warn(ctx context.Context, msg string)
}

type nopLogger struct{}

func (nopLogger) Progress(context.Context, Event) {}
func (nopLogger) Warn(context.Context, string)    {}

// The production cloud is the OpenStack client.
var _ Cloud = (*openstack.Client)(nil)
