package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// Spec is what a caller asks for: one Galera cluster on OpenStack.
type Spec struct {
	Name      string
	Datastore Datastore
	NodeCount int

	Flavor  string // id or name
	Image   string // id or name
	Network string // id or name

	Volume            VolumeSpec
	AvailabilityZones []string // nodes are spread round-robin
	// AntiAffinity is "anti-affinity", "soft-anti-affinity" or "" (no server group).
	AntiAffinity string

	// KeyPair names an existing Nova keypair; SSH.PrivateKey must then be its
	// private half. Empty: the cluster generates and owns a keypair.
	KeyPair string
	SSH     SSHSpec

	RootPassword    string // sensitive
	SSTMethod       string // empty: the datastore's default
	Parameters      map[string]string
	AllowedCIDRs    []netip.Prefix // who may reach 3306 besides the members
	InstallPackages bool
	// PackageRepository is added to the nodes' apt sources before
	// packages are installed (Percona's); nil: none.
	PackageRepository *guest.PackageRepository
	// FailureDetection is how long members wait for a silent node before
	// dropping it (Galera's evs.suspect_timeout). Commits stall that long
	// when a node dies, so it bounds a load balancer's failover.
	FailureDetection time.Duration

	// Backup, when set, schedules backups (backup.go); RestoreFrom seeds
	// a new cluster from a backup (restore.go).
	Backup      *BackupSpec
	RestoreFrom *RestoreSpec

	// TLS encrypts clients, replication and state transfers (tls.go).
	TLS TLSSpec

	// LoadBalancer, when set, is the cluster's own load balancer, built
	// beside the servers (load_balancer.go); zero fields take a
	// pxc_lb_pool's defaults.
	LoadBalancer *PoolSpec
}

// Datastore is the database flavour and version.
type Datastore struct {
	Type    string // "percona" or "mariadb"
	Version string
}

// VolumeSpec is the data volume of every node.
type VolumeSpec struct {
	SizeGiB int
	Type    string
}

// Host key check modes.
const (
	HostKeyConsole    = "console"     // fingerprints printed by cloud-init on the Nova console
	HostKeyKnownHosts = "known_hosts" // a known_hosts file the user provides
	HostKeyInsecure   = "insecure"    // no check: explicit opt-out, logged as a warning
)

// SSHSpec says how to reach the servers.
type SSHSpec struct {
	User           string
	PrivateKey     string // PEM, sensitive; generated with the keypair when empty
	HostKeyCheck   string
	KnownHostsFile string
	// SourceCIDRs may reach port 22. Empty: the address this machine uses to
	// reach the cluster network, as a /32.
	SourceCIDRs []netip.Prefix
	Bastion     *BastionSpec
	// HostKeyTimeout bounds the wait for the fingerprints on a new
	// server's console, ConnectTimeout the wait for its sshd; zero: the
	// defaults.
	HostKeyTimeout time.Duration
	ConnectTimeout time.Duration
}

// BastionSpec is a jump host in front of the servers.
type BastionSpec struct {
	Host       string
	Port       int
	User       string
	PrivateKey string // sensitive; empty: the cluster key
	// HostKey is the bastion's public key in authorized_keys format; required
	// unless the cluster's host key check is insecure.
	HostKey string
}

// Node is one member as it exists in the cloud.
type Node struct {
	Index            int // 1-based
	Name             string
	ServerID         string
	PortID           string
	VolumeID         string
	VolumeSizeGiB    int
	IP               string
	AvailabilityZone string
	ServerStatus     string
	// Flavor (name) and Image (id) the server runs, as Nova reports them;
	// a roll (roll.go) changes them one node at a time.
	Flavor string
	Image  string
	Wsrep  *WsrepState // nil when the node could not be asked
	// Role is RoleWriter, RoleReader or RoleUnavailable (writer.go); empty
	// when no node was asked.
	Role string
	// Kind is what the member runs: KindData or KindArbitrator (membership.go).
	Kind string
	// Extra: a pxc_node's member (node.go), which node_count does not count.
	Extra bool
}

// WsrepState is a node's live Galera state.
type WsrepState struct {
	ClusterSize      int
	ClusterStatus    string // Primary / non-Primary
	LocalState       string // Synced, Donor/Desynced, Joiner...
	ClusterStateUUID string
	Ready            bool
	Connected        bool
}

// Cluster is the observed state of a cluster.
type Cluster struct {
	ID               string
	Name             string
	Datastore        Datastore
	Status           string
	Nodes            []Node
	SecurityGroupID  string
	ServerGroupID    string
	KeyPairName      string
	KeyPairGenerated bool
	// GeneratedPrivateKey is the private half of a generated keypair (PEM);
	// a secret the caller must keep, since the cloud never had it.
	GeneratedPrivateKey string
	// RootPassword is the database root password (generated when the spec
	// had none); a secret.
	RootPassword string
	// HostKeys are the verified SSH host keys by server id (authorized_keys
	// format), so later reads need not trust the network again.
	HostKeys         map[string]string
	ClusterStateUUID string
	// LoadBalancer is the cluster's own load balancer (nil: none).
	LoadBalancer *Pool
	// Writer names the node a single-writer pool sends writes to (writer.go);
	// empty when there is none or no node was asked.
	Writer string
	// Requested is what the cluster was created with, read back from server
	// metadata (import restores the configuration from it).
	Requested Requested
	// AllowedCIDRs are the networks the security group opens 3306 to.
	AllowedCIDRs []netip.Prefix
	// BackupStore is the backup block completed at create (generated key,
	// created credential; secrets); BackupCredentialID is the credential
	// the cluster created and deletes with it. Restored says what a
	// restore_from create started from.
	BackupStore        *BackupStore
	BackupCredentialID string
	Restored           *Restored
	// CACertificate is the PEM of the CA the nodes' certificates chain to
	// (for clients); GeneratedCAKey is its key when the cluster generated
	// it at create: a secret the caller must keep (tls.go).
	CACertificate  string
	GeneratedCAKey string
	// CertificatesExpire is when the first of the nodes' server
	// certificates expires, as a read found it (zero: none read).
	CertificatesExpire time.Time
	// Health is what a read found to repair (health.go); zero when healthy
	// or when no node could be asked.
	Health Health
}

// Requested is the part of a spec recorded on every server.
type Requested struct {
	NodeCount         int
	Flavor            string
	Image             string
	Network           string
	Volume            VolumeSpec
	AntiAffinity      string
	SSTMethod         string
	AvailabilityZones []string
	FailureDetection  time.Duration
	// TLSMode is the TLS mode the cluster was created with; empty for a
	// cluster made before TLS existed (plain).
	TLSMode string
}

// IPs are the node addresses in node order.
func (c *Cluster) IPs() []string {
	ips := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		ips = append(ips, n.IP)
	}
	return ips
}

// Timeouts bound each lifecycle operation.
type Timeouts struct {
	Create, Delete time.Duration
}

// Cluster statuses.
const (
	StatusActive   = "ACTIVE"   // every node Synced and Primary, size == node count
	StatusDegraded = "DEGRADED" // nodes missing or not Synced
	StatusUnknown  = "UNKNOWN"  // no node could be asked
)

var dnsLabel = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// MinNodes is the smallest number of voting members (data nodes and
// arbitrators) that survives the loss of one of them.
const MinNodes = 3

// MinDataNodes is the smallest node_count: two data nodes keep a quorum
// only with an arbitrator (a pxc_node with role "arbitrator").
const MinDataNodes = 2

// ValidateName checks that name is a DNS label usable in server names.
func ValidateName(name string) error {
	if !dnsLabel.MatchString(name) {
		return fmt.Errorf("name %q must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 63 characters", name)
	}
	// Node names are <name>-<n>; keep them DNS labels too.
	if len(name) > 59 {
		return fmt.Errorf("name %q is too long: node names <name>-<n> must stay within 63 characters", name)
	}
	return nil
}

// ValidateNodeCount refuses a node_count that no arbitrator can save; two
// data nodes are accepted (the provider warns), since an arbitrator makes
// them a quorum of three.
func ValidateNodeCount(n int) error {
	if n < MinDataNodes {
		return fmt.Errorf("node_count %d is below %d: a Galera cluster needs at least %d data nodes, and %d voting members (arbitrators count) to keep quorum when one fails", n, MinDataNodes, MinDataNodes, MinNodes)
	}
	return nil
}

// validateSpec refuses a spec before anything is created.
func validateSpec(spec Spec) error {
	var errs []error
	if err := ValidateName(spec.Name); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateNodeCount(spec.NodeCount); err != nil {
		errs = append(errs, err)
	}
	if spec.Volume.SizeGiB < 1 {
		errs = append(errs, fmt.Errorf("volume size %d GiB: at least 1", spec.Volume.SizeGiB))
	}
	if spec.KeyPair != "" && spec.SSH.PrivateKey == "" {
		errs = append(errs, errors.New("key_pair is set but ssh.private_key is empty: the provider needs the private key to configure the servers"))
	}
	switch spec.SSH.HostKeyCheck {
	case HostKeyConsole, HostKeyInsecure:
	case HostKeyKnownHosts:
		if spec.SSH.KnownHostsFile == "" {
			errs = append(errs, errors.New("ssh.host_key_check is known_hosts but ssh.known_hosts_file is empty"))
		}
	default:
		errs = append(errs, fmt.Errorf("ssh.host_key_check %q: use console, known_hosts or insecure", spec.SSH.HostKeyCheck))
	}
	if spec.RootPassword != "" { // empty: generated
		errs = append(errs, guest.ValidateRootPassword(spec.RootPassword))
	}
	errs = append(errs,
		guest.ValidateSST(guest.Flavour(spec.Datastore.Type), spec.Datastore.Version, guest.SSTMethod(spec.SSTMethod)),
		guest.ValidateParameters(guest.Flavour(spec.Datastore.Type), spec.Datastore.Version, spec.Parameters),
		CheckTLS(spec.Datastore, spec.SSTMethod, spec.TLS))
	if spec.LoadBalancer != nil {
		if err := ValidatePoolSpec(withPoolDefaults(*spec.LoadBalancer)); err != nil {
			errs = append(errs, fmt.Errorf("load_balancer: %w", err))
		}
	}
	return errors.Join(errs...)
}
