package cluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// fakeCloud is an in-memory OpenStack for unit tests: it keeps the objects
// the lifecycle makes, records every call in order ("CreatePort db-1"),
// and fails the calls named in failOn (by "Method" or "Method arg").
// Deleting what is gone succeeds, as the real client's deletes do.
type fakeCloud struct {
	mu     sync.Mutex
	log    *callLog
	failOn map[string]error
	// loseAnswer makes the named create calls make their object and then
	// fail, as a proxy's 502 after the service did the work.
	loseAnswer map[string]error
	seq        int
	// consoleSilent: consoles never show the fingerprint block (an image
	// whose cloud-init does not print it).
	consoleSilent bool
	// refuseResize: the next resize of these servers (by name) ends back
	// on the old flavor (Nova's NoValidHost); rebuilds counts rebuilds by
	// server id, each printing a new fingerprint block on the console.
	refuseResize map[string]bool
	rebuilds     map[string]int
	// userData is what each server was created with, by name.
	userData map[string]string
	// failChild names a child the status tree shows in provisioning_status
	// ERROR: "health monitor" or a member's name (Octavia's child fault).
	failChild string
	// batches are the member lists of every SetPoolMembers, in order;
	// firstCheck holds the verdicts of members not checked yet (by id),
	// given after the next status tree read unless checksStalled.
	batches       [][]openstack.MemberSpec
	firstCheck    map[string]string
	checksStalled bool
	// writerName passes single-writer checks (empty: the first member).
	writerName string
	// attachWait, if set, runs before a WaitVolumeAttached answers (the
	// moment Cinder takes to call the volume in-use).
	attachWait func(ctx context.Context) error
	// activeWait, if set, runs before a WaitServerActive answers for the
	// named server (the time it takes to boot); its error is the wait's.
	activeWait func(ctx context.Context, name string) error

	keyPairs     map[string]openstack.KeyPair
	serverGroups map[string]openstack.ServerGroup
	servers      map[string]openstack.Server
	volumes      map[string]openstack.Volume
	ports        map[string]openstack.Port
	groups       map[string]openstack.SecurityGroup
	fips         map[string]openstack.FloatingIP
	lbs          map[string]openstack.LoadBalancer
	listeners    map[string]openstack.Listener // by id; lbOf maps them
	pools        map[string]openstack.Pool
	lbOf         map[string]string // listener id -> load balancer id
}

// callLog is shared by the fake cloud and the fake guests so tests see
// one order of everything that happened.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(c string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// waitFor waits until call is logged, or ctx ends.
func (l *callLog) waitFor(ctx context.Context, call string) error {
	for !slices.Contains(l.all(), call) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q: %w", call, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (l *callLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

func newFakeCloud(log *callLog) *fakeCloud {
	return &fakeCloud{
		log: log, failOn: map[string]error{}, loseAnswer: map[string]error{},
		keyPairs: map[string]openstack.KeyPair{}, serverGroups: map[string]openstack.ServerGroup{},
		servers: map[string]openstack.Server{}, volumes: map[string]openstack.Volume{},
		ports: map[string]openstack.Port{}, groups: map[string]openstack.SecurityGroup{},
		fips: map[string]openstack.FloatingIP{}, lbs: map[string]openstack.LoadBalancer{}, firstCheck: map[string]string{},
		listeners: map[string]openstack.Listener{}, pools: map[string]openstack.Pool{}, lbOf: map[string]string{},
	}
}

// call records the call and returns the injected failure, if any. The
// caller holds f.mu.
func (f *fakeCloud) call(method, arg string) error {
	f.log.add(method + " " + arg)
	if err, ok := f.failOn[method+" "+arg]; ok {
		return err
	}
	return f.failOn[method]
}

// answer is what a create returns once its object exists: the lost
// answer's error if one is injected. The caller holds f.mu.
func (f *fakeCloud) answer(method, arg string) error {
	if err, ok := f.loseAnswer[method+" "+arg]; ok {
		return err
	}
	return f.loseAnswer[method]
}

func (f *fakeCloud) id(kind string) string {
	f.seq++
	return fmt.Sprintf("%s-%04d", kind, f.seq)
}

var errNotFound = fmt.Errorf("fake: %w", openstack.ErrNotFound)

// objects counts what exists, by kind, for leak checks.
func (f *fakeCloud) objects() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	rules := 0
	for _, g := range f.groups {
		rules += len(g.Rules)
	}
	out := map[string]int{
		"keypairs": len(f.keyPairs), "server groups": len(f.serverGroups), "servers": len(f.servers),
		"volumes": len(f.volumes), "ports": len(f.ports), "security groups": len(f.groups),
		"floating ips": len(f.fips), "load balancers": len(f.lbs),
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

func matches(meta, match map[string]string) bool {
	for k, v := range match {
		if meta[k] != v {
			return false
		}
	}
	return true
}

func sortedValues[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// lookup is a GET: the object, or a 404.
func lookup[T any](f *fakeCloud, method, id string, objects map[string]T) (T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var zero T
	if err := f.call(method, id); err != nil {
		return zero, err
	}
	v, ok := objects[id]
	if !ok {
		return zero, errNotFound
	}
	return v, nil
}

// list is a filtered list call, in id order.
func list[T any](f *fakeCloud, method, arg string, objects map[string]T, keep func(T) bool) ([]T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(method, arg); err != nil {
		return nil, err
	}
	var out []T
	for _, v := range sortedValues(objects) {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// Compute.

func (f *fakeCloud) ResolveFlavor(_ context.Context, ref string) (openstack.Flavor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ResolveFlavor", ref); err != nil {
		return openstack.Flavor{}, err
	}
	return openstack.Flavor{ID: "flavor-" + ref, Name: ref}, nil
}

func (f *fakeCloud) ImportKeyPair(_ context.Context, name, pub string) (openstack.KeyPair, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ImportKeyPair", name); err != nil {
		return openstack.KeyPair{}, err
	}
	f.keyPairs[name] = openstack.KeyPair{Name: name, PublicKey: pub}
	if err := f.answer("ImportKeyPair", name); err != nil {
		return openstack.KeyPair{}, err
	}
	return f.keyPairs[name], nil
}

func (f *fakeCloud) GetKeyPair(_ context.Context, name string) (openstack.KeyPair, error) {
	return lookup(f, "GetKeyPair", name, f.keyPairs)
}

func (f *fakeCloud) DeleteKeyPair(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteKeyPair", name); err != nil {
		return err
	}
	delete(f.keyPairs, name)
	return nil
}

func (f *fakeCloud) CreateServerGroup(_ context.Context, name, policy string) (openstack.ServerGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateServerGroup", name); err != nil {
		return openstack.ServerGroup{}, err
	}
	g := openstack.ServerGroup{ID: f.id("sg"), Name: name, Policy: policy}
	f.serverGroups[g.ID] = g
	if err := f.answer("CreateServerGroup", name); err != nil {
		return openstack.ServerGroup{}, err
	}
	return g, nil
}

func (f *fakeCloud) ListServerGroups(context.Context) ([]openstack.ServerGroup, error) {
	return list(f, "ListServerGroups", "", f.serverGroups, func(openstack.ServerGroup) bool { return true })
}

func (f *fakeCloud) ListKeyPairs(context.Context) ([]openstack.KeyPair, error) {
	return list(f, "ListKeyPairs", "", f.keyPairs, func(openstack.KeyPair) bool { return true })
}

func (f *fakeCloud) DeleteServerGroup(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteServerGroup", id); err != nil {
		return err
	}
	delete(f.serverGroups, id)
	return nil
}

func (f *fakeCloud) CreateServer(_ context.Context, in openstack.ServerCreate) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateServer", in.Name); err != nil {
		return openstack.Server{}, err
	}
	port, ok := f.ports[in.PortID]
	if !ok {
		return openstack.Server{}, fmt.Errorf("fake: port %s: %w", in.PortID, openstack.ErrNotFound)
	}
	s := openstack.Server{
		ID: f.id("server"), Name: in.Name, Status: "BUILD", AvailabilityZone: in.AvailabilityZone,
		KeyName: in.KeyName, Metadata: in.Metadata,
		FlavorName: strings.TrimPrefix(in.FlavorID, "flavor-"), ImageID: in.ImageID,
		Addresses: []openstack.Address{{IP: port.FixedIPs[0].IP, Version: 4, Type: "fixed"}},
	}
	if s.AvailabilityZone == "" {
		s.AvailabilityZone = "nova"
	}
	port.DeviceID = s.ID
	f.ports[port.ID] = port
	f.servers[s.ID] = s
	if f.userData == nil {
		f.userData = map[string]string{}
	}
	f.userData[in.Name] = string(in.UserData)
	if err := f.answer("CreateServer", in.Name); err != nil {
		return openstack.Server{}, err
	}
	return s, nil
}

func (f *fakeCloud) WaitServerActive(ctx context.Context, id string) (openstack.Server, error) {
	if f.activeWait != nil {
		f.mu.Lock()
		name := f.servers[id].Name
		f.mu.Unlock()
		if err := f.activeWait(ctx, name); err != nil {
			return openstack.Server{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[id]
	if err := f.call("WaitServerActive", s.Name); err != nil {
		return openstack.Server{}, err
	}
	if !ok {
		return s, errNotFound
	}
	s.Status = "ACTIVE"
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) ListServers(_ context.Context, prefix string, match map[string]string) ([]openstack.Server, error) {
	return list(f, "ListServers", prefix, f.servers, func(s openstack.Server) bool {
		return strings.HasPrefix(s.Name, prefix) && matches(s.Metadata, match)
	})
}

func (f *fakeCloud) StartServer(_ context.Context, id string) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[id]
	if err := f.call("StartServer", s.Name); err != nil {
		return openstack.Server{}, err
	}
	if !ok {
		return s, errNotFound
	}
	s.Status = "ACTIVE"
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) DeleteServer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteServer", f.servers[id].Name); err != nil {
		return err
	}
	// Nova detaches the volumes and unbinds the ports of a deleted server.
	for vid, v := range f.volumes {
		var keep []openstack.VolumeAttachment
		for _, a := range v.Attachments {
			if a.ServerID != id {
				keep = append(keep, a)
			}
		}
		v.Attachments = keep
		f.volumes[vid] = v
	}
	for pid, p := range f.ports {
		if p.DeviceID == id {
			p.DeviceID = ""
			f.ports[pid] = p
		}
	}
	delete(f.servers, id)
	return nil
}

func (f *fakeCloud) ConsoleOutput(_ context.Context, id string, _ int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ConsoleOutput", f.servers[id].Name); err != nil {
		return "", err
	}
	if f.consoleSilent {
		return "Cloud-init v. 22.4 finished\n", nil
	}
	return f.console(id), nil
}

// StartVolumeAttach logs "AttachVolume <server name>"; the volume is
// attaching until WaitVolumeAttached ("VolumeAttached <server name>").
func (f *fakeCloud) StartVolumeAttach(_ context.Context, serverID, volumeID string) (openstack.VolumeAttachment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("AttachVolume", f.servers[serverID].Name); err != nil {
		return openstack.VolumeAttachment{}, err
	}
	v, ok := f.volumes[volumeID]
	if !ok {
		return openstack.VolumeAttachment{}, errNotFound
	}
	a := openstack.VolumeAttachment{ServerID: serverID, VolumeID: volumeID, Device: "/dev/vdb"}
	v.Attachments = append(v.Attachments, a)
	v.Status = "attaching"
	f.volumes[volumeID] = v
	return a, nil
}

func (f *fakeCloud) WaitVolumeAttached(ctx context.Context, serverID, volumeID string) error {
	if f.attachWait != nil {
		if err := f.attachWait(ctx); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("VolumeAttached", f.servers[serverID].Name); err != nil {
		return err
	}
	v, ok := f.volumes[volumeID]
	if !ok {
		return errNotFound
	}
	v.Status = "in-use"
	f.volumes[volumeID] = v
	return nil
}

func (f *fakeCloud) DetachVolume(_ context.Context, serverID, volumeID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DetachVolume", f.servers[serverID].Name); err != nil {
		return err
	}
	v := f.volumes[volumeID]
	v.Attachments = nil
	v.Status = "available"
	f.volumes[volumeID] = v
	return nil
}

// Block storage.

func (f *fakeCloud) CreateVolume(_ context.Context, in openstack.VolumeCreate) (openstack.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateVolume", in.Name); err != nil {
		return openstack.Volume{}, err
	}
	v := openstack.Volume{ID: f.id("volume"), Name: in.Name, Status: "available", SizeGiB: in.SizeGiB, Metadata: in.Metadata}
	f.volumes[v.ID] = v
	if err := f.answer("CreateVolume", in.Name); err != nil {
		return openstack.Volume{}, err
	}
	return v, nil
}

func (f *fakeCloud) ListVolumes(_ context.Context, prefix string, match map[string]string) ([]openstack.Volume, error) {
	return list(f, "ListVolumes", prefix, f.volumes, func(v openstack.Volume) bool {
		return strings.HasPrefix(v.Name, prefix) && matches(v.Metadata, match)
	})
}

func (f *fakeCloud) DeleteVolume(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteVolume", f.volumes[id].Name); err != nil {
		return err
	}
	if v, ok := f.volumes[id]; ok && len(v.Attachments) > 0 {
		return fmt.Errorf("fake: volume %s is in-use (409)", id)
	}
	delete(f.volumes, id)
	return nil
}

func (f *fakeCloud) ExtendVolume(_ context.Context, id string, newSizeGiB int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[id]
	if err := f.call("ExtendVolume", v.Name); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("fake: volume %s not found (404)", id)
	}
	if newSizeGiB <= v.SizeGiB {
		return fmt.Errorf("fake: new size %d must be greater than %d (400)", newSizeGiB, v.SizeGiB)
	}
	v.SizeGiB = newSizeGiB
	f.volumes[id] = v
	return f.answer("ExtendVolume", v.Name)
}

// Images.

func (f *fakeCloud) ResolveImage(_ context.Context, ref string) (openstack.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ResolveImage", ref); err != nil {
		return openstack.Image{}, err
	}
	return openstack.Image{ID: "image-" + ref, Name: ref, Status: "active"}, nil
}

// Network.

func (f *fakeCloud) ResolveNetwork(_ context.Context, ref string) (openstack.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ResolveNetwork", ref); err != nil {
		return openstack.Network{}, err
	}
	name := strings.TrimPrefix(ref, "net-") // by id or by name
	return openstack.Network{ID: "net-" + name, Name: name, Subnets: []openstack.Subnet{
		{ID: "subnet-" + name, NetworkID: "net-" + name, CIDR: "10.9.0.0/24", IPVersion: 4},
	}}, nil
}

func (f *fakeCloud) GetSubnet(_ context.Context, id string) (openstack.Subnet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetSubnet", id); err != nil {
		return openstack.Subnet{}, err
	}
	return openstack.Subnet{ID: id, CIDR: "10.9.0.0/24", IPVersion: 4}, nil
}

func (f *fakeCloud) CreateSecurityGroup(_ context.Context, name, description string, _ []string) (openstack.SecurityGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateSecurityGroup", name); err != nil {
		return openstack.SecurityGroup{}, err
	}
	g := openstack.SecurityGroup{ID: f.id("secgroup"), Name: name, Description: description}
	f.groups[g.ID] = g
	if err := f.answer("CreateSecurityGroup", name); err != nil {
		return openstack.SecurityGroup{}, err
	}
	return g, nil
}

func (f *fakeCloud) GetSecurityGroup(_ context.Context, id string) (openstack.SecurityGroup, error) {
	return lookup(f, "GetSecurityGroup", id, f.groups)
}

func (f *fakeCloud) ListSecurityGroups(_ context.Context, flt openstack.SecurityGroupFilter) ([]openstack.SecurityGroup, error) {
	return list(f, "ListSecurityGroups", flt.Description, f.groups, func(g openstack.SecurityGroup) bool {
		return flt.Description == "" || g.Description == flt.Description
	})
}

func (f *fakeCloud) DeleteSecurityGroup(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteSecurityGroup", f.groups[id].Name); err != nil {
		return err
	}
	for _, p := range f.ports {
		for _, g := range p.SecurityGroups {
			if g == id {
				return fmt.Errorf("fake: security group %s is in use by port %s (409)", id, p.ID)
			}
		}
	}
	delete(f.groups, id)
	return nil
}

// CreateSecurityGroupRule answers 409 for a rule the group already has,
// as Neutron does.
func (f *fakeCloud) CreateSecurityGroupRule(_ context.Context, groupID string, r openstack.SecurityGroupRule) (openstack.SecurityGroupRule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	remote := r.RemoteIPPrefix
	if r.RemoteGroupID != "" {
		remote = "members"
	}
	if err := f.call("CreateSecurityGroupRule", fmt.Sprintf("tcp/%d from %s", r.PortMin, remote)); err != nil {
		return openstack.SecurityGroupRule{}, err
	}
	g, ok := f.groups[groupID]
	if !ok {
		return r, errNotFound
	}
	// As the client does with Neutron's 409: the same rule (whatever its
	// description) is there already, and that one is the answer.
	for _, e := range g.Rules {
		if e.PortMin == r.PortMin && e.RemoteIPPrefix == r.RemoteIPPrefix && e.RemoteGroupID == r.RemoteGroupID {
			return e, nil
		}
	}
	r.ID = f.id("rule")
	g.Rules = append(g.Rules, r)
	f.groups[groupID] = g
	return r, nil
}

// CreateSecurityGroupRules is Neutron's bulk create: all or none, 409 when
// the group has one of the rules already.
func (f *fakeCloud) CreateSecurityGroupRules(_ context.Context, groupID string, rs []openstack.SecurityGroupRule) ([]openstack.SecurityGroupRule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var what []string
	for _, r := range rs {
		what = append(what, fakeRuleString(r))
	}
	if err := f.call("CreateSecurityGroupRules", strings.Join(what, "; ")); err != nil {
		return nil, err
	}
	// failOn["CreateSecurityGroupRules tcp/4567 from members"] fails any
	// bulk request holding that rule.
	for _, w := range what {
		if err, ok := f.failOn["CreateSecurityGroupRules "+w]; ok {
			return nil, err
		}
	}
	g, ok := f.groups[groupID]
	if !ok {
		return nil, errNotFound
	}
	var made []openstack.SecurityGroupRule
	for i, r := range rs {
		for _, e := range append(slices.Clone(g.Rules), made...) {
			if e.PortMin == r.PortMin && e.RemoteIPPrefix == r.RemoteIPPrefix && e.RemoteGroupID == r.RemoteGroupID {
				return nil, fmt.Errorf("fake: SecurityGroupRuleExists (409): %s", what[i])
			}
		}
		r.ID = f.id("rule")
		made = append(made, r)
	}
	g.Rules = append(g.Rules, made...)
	f.groups[groupID] = g
	return made, nil
}

func fakeRuleString(r openstack.SecurityGroupRule) string {
	remote := r.RemoteIPPrefix
	if r.RemoteGroupID != "" {
		remote = "members"
	}
	return fmt.Sprintf("tcp/%d from %s", r.PortMin, remote)
}

func (f *fakeCloud) DeleteSecurityGroupRule(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteSecurityGroupRule", id); err != nil {
		return err
	}
	for gid, g := range f.groups {
		var keep []openstack.SecurityGroupRule
		for _, r := range g.Rules {
			if r.ID != id {
				keep = append(keep, r)
			}
		}
		g.Rules = keep
		f.groups[gid] = g
	}
	return nil
}

func (f *fakeCloud) CreatePort(_ context.Context, in openstack.PortCreate) (openstack.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreatePort", in.Name); err != nil {
		return openstack.Port{}, err
	}
	p := openstack.Port{
		ID: f.id("port"), Name: in.Name, Description: in.Description, NetworkID: in.NetworkID,
		FixedIPs:       []openstack.FixedIP{{SubnetID: in.SubnetID, IP: fmt.Sprintf("10.9.0.%d", 10+f.seq)}},
		SecurityGroups: in.SecurityGroupIDs,
	}
	f.ports[p.ID] = p
	if err := f.answer("CreatePort", in.Name); err != nil {
		return openstack.Port{}, err
	}
	return p, nil
}

func (f *fakeCloud) ListPorts(_ context.Context, flt openstack.PortFilter) ([]openstack.Port, error) {
	return list(f, "ListPorts", flt.Description, f.ports, func(p openstack.Port) bool {
		return flt.Description == "" || p.Description == flt.Description
	})
}

func (f *fakeCloud) DeletePort(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeletePort", f.ports[id].Name); err != nil {
		return err
	}
	delete(f.ports, id)
	return nil
}

func (f *fakeCloud) CreateFloatingIP(_ context.Context, networkID, portID string) (openstack.FloatingIP, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateFloatingIP", networkID); err != nil {
		return openstack.FloatingIP{}, err
	}
	fip := openstack.FloatingIP{ID: f.id("fip"), Address: "203.0.113.7", NetworkID: networkID, PortID: portID, Status: "DOWN"}
	f.fips[fip.ID] = fip
	return fip, nil
}

func (f *fakeCloud) ListFloatingIPs(_ context.Context, portID string) ([]openstack.FloatingIP, error) {
	return list(f, "ListFloatingIPs", portID, f.fips, func(fip openstack.FloatingIP) bool { return fip.PortID == portID })
}

func (f *fakeCloud) DeleteFloatingIP(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteFloatingIP", id); err != nil {
		return err
	}
	delete(f.fips, id)
	return nil
}
