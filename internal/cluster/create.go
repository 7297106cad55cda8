package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Manager runs cluster lifecycles against one cloud.
type Manager struct {
	cloud *openstack.Client
	log   Logger
}

// NewManager returns a manager for the cloud; log may be nil.
func NewManager(cloud *openstack.Client, log Logger) *Manager {
	if log == nil {
		log = nopLogger{}
	}
	return &Manager{cloud: cloud, log: log}
}

// References are the resolved ids of what a spec names.
type References struct {
	FlavorID  string
	ImageID   string
	NetworkID string
	Subnet    openstack.Subnet
}

// ReferenceError names the spec field whose reference failed.
type ReferenceError struct {
	Field string // "flavor", "image" or "network"
	Err   error
}

func (e *ReferenceError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *ReferenceError) Unwrap() error { return e.Err }

// Resolve looks up flavor, image and network; each failure is a
// *ReferenceError, so plans can name the attribute.
func (m *Manager) Resolve(ctx context.Context, flavor, image, network string) (References, []error) {
	var refs References
	var errs []error
	// Only a missing or ambiguous object is the field's fault; a cloud that
	// cannot be reached or refuses the login is reported as it is.
	fieldErr := func(field string, err error) error {
		var ae *openstack.AuthError
		var sm *openstack.ServiceMissingError
		if errors.As(err, &ae) || errors.As(err, &sm) {
			return err
		}
		return &ReferenceError{Field: field, Err: err}
	}
	if f, err := m.cloud.ResolveFlavor(ctx, flavor); err != nil {
		errs = append(errs, fieldErr("flavor", err))
	} else {
		refs.FlavorID = f.ID
	}
	if i, err := m.cloud.ResolveImage(ctx, image); err != nil {
		errs = append(errs, fieldErr("image", err))
	} else {
		refs.ImageID = i.ID
	}
	if n, err := m.cloud.ResolveNetwork(ctx, network); err != nil {
		errs = append(errs, fieldErr("network", err))
	} else {
		refs.NetworkID = n.ID
		for _, s := range n.Subnets {
			if s.IPVersion == 4 {
				refs.Subnet = s
				break
			}
		}
		if refs.Subnet.ID == "" {
			errs = append(errs, &ReferenceError{Field: "network", Err: fmt.Errorf("network %q has no IPv4 subnet", network)})
		}
	}
	return refs, errs
}

// Create builds the cluster: cloud objects, servers, guests, gate. It
// returns the cluster even on error whenever an id was assigned, so the
// caller can record it: Delete(id) then removes whatever was made.
func (m *Manager) Create(ctx context.Context, spec Spec) (*Cluster, error) {
	if err := m.validate(spec); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	refs, errs := m.Resolve(ctx, spec.Flavor, spec.Image, spec.Network)
	if len(errs) > 0 {
		return nil, &PhaseError{Phase: PhaseValidate, Err: errors.Join(errs...)}
	}
	id, err := newClusterID()
	if err != nil {
		return nil, err
	}
	if spec.RootPassword == "" {
		if spec.RootPassword, err = GeneratePassword(24); err != nil {
			return nil, err
		}
	}
	c := &Cluster{ID: id, Name: spec.Name, Datastore: spec.Datastore, Status: "BUILD", RootPassword: spec.RootPassword}
	b := &build{m: m, spec: spec, refs: refs, c: c, started: time.Now()}
	if err := b.run(ctx); err != nil {
		c.Status = "ERROR"
		return c, err
	}
	return c, nil
}

func (m *Manager) validate(spec Spec) error {
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
	if err := validateGuestSpec(spec); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// build is one create in progress.
type build struct {
	m       *Manager
	spec    Spec
	refs    References
	c       *Cluster
	started time.Time

	privateKey string // PEM of the key the servers trust
}

func (b *build) progress(ctx context.Context, phase, node, msg string, since time.Time) {
	b.m.log.Progress(ctx, Event{Phase: phase, Node: node, Message: msg, Duration: time.Since(since).Round(100 * time.Millisecond)})
}

func (b *build) run(ctx context.Context) error {
	t := time.Now()
	if err := b.keyPair(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.securityGroup(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.serverGroup(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	b.c.Nodes = make([]Node, b.spec.NodeCount)
	for i := range b.c.Nodes {
		b.c.Nodes[i] = Node{Index: i + 1, Name: NodeName(b.spec.Name, i+1)}
		if len(b.spec.AvailabilityZones) > 0 {
			b.c.Nodes[i].AvailabilityZone = b.spec.AvailabilityZones[i%len(b.spec.AvailabilityZones)]
		}
	}
	if err := b.eachNode(ctx, PhaseServers, b.port); err != nil {
		return err
	}
	if err := b.sshRules(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	b.progress(ctx, PhaseCloud, "", "keypair, security group, server group and ports ready", t)

	t = time.Now()
	if err := b.eachNode(ctx, PhaseServers, b.serverAndVolume); err != nil {
		return err
	}
	b.progress(ctx, PhaseServers, "", fmt.Sprintf("%d servers ACTIVE with data volumes attached", len(b.c.Nodes)), t)

	t = time.Now()
	if err := b.verifyHostKeys(ctx); err != nil {
		return err
	}
	b.progress(ctx, PhaseSSH, "", "SSH ready, host keys verified", t)

	return b.configureGuests(ctx)
}

// eachNode runs f for every node in parallel; the first failure wins and
// names its node.
func (b *build) eachNode(ctx context.Context, phase string, f func(ctx context.Context, n *Node) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range b.c.Nodes {
		n := &b.c.Nodes[i]
		wg.Go(func() {
			if err := f(ctx, n); err != nil {
				once.Do(func() {
					var pe *PhaseError
					if errors.As(err, &pe) {
						first = pe
					} else {
						first = &PhaseError{Phase: phase, Node: n.Name, Err: err}
					}
					cancel()
				})
			}
		})
	}
	wg.Wait()
	return first
}

func (b *build) keyPair(ctx context.Context) error {
	if b.spec.KeyPair != "" {
		if _, err := b.m.cloud.GetKeyPair(ctx, b.spec.KeyPair); err != nil {
			return fmt.Errorf("key_pair %s: %w", b.spec.KeyPair, err)
		}
		b.c.KeyPairName = b.spec.KeyPair
		b.privateKey = b.spec.SSH.PrivateKey
		return nil
	}
	// Generate locally so the private key never crosses the API.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "pxc cluster "+b.c.Name)
	if err != nil {
		return fmt.Errorf("encode SSH key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode SSH public key: %w", err)
	}
	name := ObjectName(b.c.Name, b.c.ID)
	if _, err := b.m.cloud.ImportKeyPair(ctx, name, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))); err != nil {
		return err
	}
	b.c.KeyPairName = name
	b.c.KeyPairGenerated = true
	b.privateKey = string(pem.EncodeToMemory(block))
	b.c.GeneratedPrivateKey = b.privateKey
	return nil
}

func (b *build) securityGroup(ctx context.Context) error {
	sg, err := b.m.cloud.CreateSecurityGroup(ctx, ObjectName(b.c.Name, b.c.ID), ownerDescription(b.c.ID), nil)
	if err != nil {
		return err
	}
	b.c.SecurityGroupID = sg.ID
	for _, r := range ingressRules(b.spec.AllowedCIDRs, nil) {
		if err := b.addRule(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (b *build) addRule(ctx context.Context, r ingressRule) error {
	rule := openstack.SecurityGroupRule{
		Direction: "ingress", EtherType: "IPv4", Protocol: "tcp",
		PortMin: r.Port, PortMax: r.Port, Description: r.Description,
	}
	if r.RemoteGroup {
		rule.RemoteGroupID = b.c.SecurityGroupID
	} else {
		rule.RemoteIPPrefix = r.RemoteCIDR.String()
	}
	if _, err := b.m.cloud.CreateSecurityGroupRule(ctx, b.c.SecurityGroupID, rule); err != nil {
		return fmt.Errorf("security group rule %s: %w", r, err)
	}
	return nil
}

// sshRules opens port 22 to where provisioning connects from: the given
// CIDRs, else the local address this machine uses towards the first node
// (a UDP "connect" sends nothing), else the subnet when a bastion is used.
func (b *build) sshRules(ctx context.Context) error {
	sources := b.spec.SSH.SourceCIDRs
	if len(sources) == 0 {
		switch {
		case b.spec.SSH.Bastion != nil:
			p, err := netip.ParsePrefix(b.refs.Subnet.CIDR)
			if err != nil {
				return fmt.Errorf("subnet %s CIDR %q: %w", b.refs.Subnet.ID, b.refs.Subnet.CIDR, err)
			}
			sources = []netip.Prefix{p}
			b.m.log.Warn(ctx, fmt.Sprintf("ssh.source_cidrs is empty and a bastion is used: opening port 22 to the subnet %s; set ssh.source_cidrs to the bastion's address to narrow it", p))
		default:
			src, err := localSourceFor(b.c.Nodes[0].IP)
			if err != nil {
				return err
			}
			sources = []netip.Prefix{netip.PrefixFrom(src, 32)}
		}
	}
	for _, r := range ingressRules(nil, sources) {
		if err := b.addRule(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func localSourceFor(ip string) (netip.Addr, error) {
	conn, err := net.Dial("udp", net.JoinHostPort(ip, "22"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the local address towards %s (set ssh.source_cidrs): %w", ip, err)
	}
	defer conn.Close()
	ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("local address towards %s: %w", ip, err)
	}
	return ap.Addr().Unmap(), nil
}

func (b *build) serverGroup(ctx context.Context) error {
	if b.spec.AntiAffinity == "" {
		return nil
	}
	g, err := b.m.cloud.CreateServerGroup(ctx, ObjectName(b.c.Name, b.c.ID), b.spec.AntiAffinity)
	if err != nil {
		return err
	}
	b.c.ServerGroupID = g.ID
	return nil
}

// port gives a node its address before the server exists, so the
// security group rules and the galera config can be written up front.
func (b *build) port(ctx context.Context, n *Node) error {
	p, err := b.m.cloud.CreatePort(ctx, openstack.PortCreate{
		Name:             n.Name,
		NetworkID:        b.refs.NetworkID,
		SubnetID:         b.refs.Subnet.ID,
		SecurityGroupIDs: []string{b.c.SecurityGroupID},
		Description:      ownerDescription(b.c.ID),
	})
	if err != nil {
		return err
	}
	n.PortID = p.ID
	if len(p.FixedIPs) == 0 {
		return fmt.Errorf("port %s has no fixed IP", p.ID)
	}
	n.IP = p.FixedIPs[0].IP
	return nil
}

func (b *build) metadata(n *Node) map[string]string {
	return map[string]string{
		metaClusterID:    b.c.ID,
		metaClusterName:  b.c.Name,
		metaNodeIndex:    strconv.Itoa(n.Index),
		metaDatastore:    b.spec.Datastore.Type + ":" + b.spec.Datastore.Version,
		metaServerGroup:  b.c.ServerGroupID,
		metaKeyPair:      b.c.KeyPairName,
		metaKeyPairGen:   strconv.FormatBool(b.c.KeyPairGenerated),
		metaFlavor:       b.spec.Flavor,
		metaImage:        b.spec.Image,
		metaNetwork:      b.spec.Network,
		metaVolume:       strconv.Itoa(b.spec.Volume.SizeGiB) + ":" + b.spec.Volume.Type,
		metaAntiAffinity: b.spec.AntiAffinity,
		metaSST:          b.spec.SSTMethod,
		metaNodeCount:    strconv.Itoa(b.spec.NodeCount),
		metaZones:        strings.Join(b.spec.AvailabilityZones, ","),
		metaFailure:      strconv.Itoa(int(b.spec.FailureDetection.Seconds())),
	}
}

func (b *build) serverAndVolume(ctx context.Context, n *Node) error {
	t := time.Now()
	volCh := make(chan error, 1)
	go func() {
		v, err := b.m.cloud.CreateVolume(ctx, openstack.VolumeCreate{
			Name:             volumeName(b.c.Name, n.Index),
			SizeGiB:          b.spec.Volume.SizeGiB,
			VolumeType:       b.spec.Volume.Type,
			AvailabilityZone: n.AvailabilityZone,
			Description:      ownerDescription(b.c.ID),
			Metadata:         map[string]string{metaClusterID: b.c.ID, metaNodeIndex: strconv.Itoa(n.Index)},
		})
		if err == nil {
			n.VolumeID = v.ID
		} else if v.ID != "" {
			n.VolumeID = v.ID
		}
		volCh <- err
	}()
	s, err := b.m.cloud.CreateServer(ctx, openstack.ServerCreate{
		Name:             n.Name,
		FlavorID:         b.refs.FlavorID,
		ImageID:          b.refs.ImageID,
		PortID:           n.PortID,
		KeyName:          b.c.KeyPairName,
		AvailabilityZone: n.AvailabilityZone,
		Metadata:         b.metadata(n),
		ServerGroupID:    b.c.ServerGroupID,
	})
	if err != nil {
		<-volCh
		return err
	}
	n.ServerID = s.ID
	s, err = b.m.cloud.WaitServerActive(ctx, s.ID)
	if verr := <-volCh; verr != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: verr}
	}
	if err != nil {
		return err
	}
	n.ServerStatus = s.Status
	if s.AvailabilityZone != "" {
		n.AvailabilityZone = s.AvailabilityZone
	}
	if _, err := b.m.cloud.AttachVolume(ctx, n.ServerID, n.VolumeID); err != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: err}
	}
	b.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s, volume attached", n.Name, n.IP), t)
	return nil
}
