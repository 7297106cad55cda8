package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
)

// Flavor is a Nova flavor.
type Flavor struct {
	ID      string
	Name    string
	VCPUs   int
	RAMMiB  int
	DiskGiB int
}

// ResolveFlavor finds a flavor by id, then by exact name. Several flavors
// with the name is an error.
func (c *Client) ResolveFlavor(ctx context.Context, idOrName string) (Flavor, error) {
	return remember(c, "flavor", idOrName, func() (Flavor, error) { return c.resolveFlavor(ctx, idOrName) })
}

// resolveFlavor lists the flavors once and matches the id or the name:
// flavor ids need not be UUIDs ("1", "m1.small"), so a GET by a name would
// be a 404 probe.
func (c *Client) resolveFlavor(ctx context.Context, idOrName string) (Flavor, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Flavor{}, err
	}
	pages, err := flavors.ListDetail(sc, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return Flavor{}, fmt.Errorf("list flavors: %w", err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return Flavor{}, fmt.Errorf("list flavors: %w", err)
	}
	var found []Flavor
	for i := range all {
		if all[i].ID == idOrName {
			return flavorOf(&all[i]), nil
		}
		if all[i].Name == idOrName {
			found = append(found, flavorOf(&all[i]))
		}
	}
	return pickOne("flavor", idOrName, found)
}

func flavorOf(f *flavors.Flavor) Flavor {
	return Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAMMiB: f.RAM, DiskGiB: f.Disk}
}

// pickOne returns the single match, or says why there is none.
func pickOne[T any](kind, ref string, found []T) (T, error) {
	var zero T
	switch len(found) {
	case 0:
		return zero, fmt.Errorf("%s %q: %w (no %s has this id or name)", kind, ref, ErrNotFound, kind)
	case 1:
		return found[0], nil
	}
	return zero, fmt.Errorf("%s %q: %d %ss have this name; use the id", kind, ref, len(found), kind)
}

// KeyPair is a Nova keypair. PrivateKey is set only right after a generated
// create; it is a secret.
type KeyPair struct {
	Name        string
	Type        string
	Fingerprint string
	PublicKey   string
	PrivateKey  string
}

// CreateKeyPair lets Nova generate a keypair and returns its private key.
func (c *Client) CreateKeyPair(ctx context.Context, name string) (KeyPair, error) {
	return c.createKeyPair(ctx, keypairs.CreateOpts{Name: name, Type: "ssh"})
}

// ImportKeyPair registers an existing public key under name.
func (c *Client) ImportKeyPair(ctx context.Context, name, publicKey string) (KeyPair, error) {
	return c.createKeyPair(ctx, keypairs.CreateOpts{Name: name, Type: "ssh", PublicKey: publicKey})
}

func (c *Client) createKeyPair(ctx context.Context, opts keypairs.CreateOpts) (KeyPair, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return KeyPair{}, err
	}
	kp, err := keypairs.Create(ctx, sc, opts).Extract()
	if err != nil {
		return KeyPair{}, fmt.Errorf("create keypair %s: %w", opts.Name, err)
	}
	return keyPairOf(kp), nil
}

// GetKeyPair reads a keypair; IsNotFound(err) when it does not exist.
func (c *Client) GetKeyPair(ctx context.Context, name string) (KeyPair, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return KeyPair{}, err
	}
	kp, err := keypairs.Get(ctx, sc, name, nil).Extract()
	if err != nil {
		return KeyPair{}, fmt.Errorf("get keypair %s: %w", name, err)
	}
	return keyPairOf(kp), nil
}

// DeleteKeyPair deletes a keypair; a missing one counts as deleted.
func (c *Client) DeleteKeyPair(ctx context.Context, name string) error {
	sc, err := c.Compute(ctx)
	if err != nil {
		return err
	}
	if err := keypairs.Delete(ctx, sc, name, nil).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete keypair %s: %w", name, err)
	}
	return nil
}

// ListKeyPairs lists the project user's keypairs, so a keypair whose create
// answered with an error can still be found by its name.
func (c *Client) ListKeyPairs(ctx context.Context) ([]KeyPair, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := keypairs.List(sc, nil).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keypairs: %w", err)
	}
	all, err := keypairs.ExtractKeyPairs(pages)
	if err != nil {
		return nil, fmt.Errorf("list keypairs: %w", err)
	}
	out := make([]KeyPair, 0, len(all))
	for i := range all {
		out = append(out, keyPairOf(&all[i]))
	}
	return out, nil
}

func keyPairOf(k *keypairs.KeyPair) KeyPair {
	return KeyPair{Name: k.Name, Type: k.Type, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey}
}

// Server group policies.
const (
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

// ServerGroup is a Nova server group.
type ServerGroup struct {
	ID      string
	Name    string
	Policy  string
	Members []string
}

// CreateServerGroup creates a server group with one policy (microversion 2.64 form).
func (c *Client) CreateServerGroup(ctx context.Context, name, policy string) (ServerGroup, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return ServerGroup{}, err
	}
	g, err := servergroups.Create(ctx, sc, servergroups.CreateOpts{Name: name, Policy: policy}).Extract()
	if err != nil {
		return ServerGroup{}, fmt.Errorf("create server group %s (%s): %w", name, policy, err)
	}
	return serverGroupOf(g), nil
}

// GetServerGroup reads a server group; IsNotFound(err) when it does not exist.
func (c *Client) GetServerGroup(ctx context.Context, id string) (ServerGroup, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return ServerGroup{}, err
	}
	g, err := servergroups.Get(ctx, sc, id).Extract()
	if err != nil {
		return ServerGroup{}, fmt.Errorf("get server group %s: %w", id, err)
	}
	return serverGroupOf(g), nil
}

// DeleteServerGroup deletes a server group; a missing one counts as deleted.
func (c *Client) DeleteServerGroup(ctx context.Context, id string) error {
	sc, err := c.Compute(ctx)
	if err != nil {
		return err
	}
	if err := servergroups.Delete(ctx, sc, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete server group %s: %w", id, err)
	}
	return nil
}

// ListServerGroups lists the project's server groups: they carry no
// metadata, so a cluster finds its own by name.
func (c *Client) ListServerGroups(ctx context.Context) ([]ServerGroup, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := servergroups.List(sc, nil).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list server groups: %w", err)
	}
	all, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return nil, fmt.Errorf("list server groups: %w", err)
	}
	out := make([]ServerGroup, 0, len(all))
	for i := range all {
		out = append(out, serverGroupOf(&all[i]))
	}
	return out, nil
}

func serverGroupOf(g *servergroups.ServerGroup) ServerGroup {
	out := ServerGroup{ID: g.ID, Name: g.Name, Members: g.Members}
	if g.Policy != nil {
		out.Policy = *g.Policy
	} else if len(g.Policies) > 0 {
		out.Policy = g.Policies[0]
	}
	return out
}

// ServerCreate is what a new server needs. Either NetworkID or PortID.
type ServerCreate struct {
	Name             string
	FlavorID         string
	ImageID          string
	NetworkID        string
	PortID           string
	FixedIP          string // with NetworkID only
	KeyName          string
	SecurityGroups   []string // names (Nova takes names)
	AvailabilityZone string
	Metadata         map[string]string
	Tags             []string
	ServerGroupID    string // scheduler hint "group"
	UserData         []byte // cloud-init; may hold secrets, never logged
}

// Server is a Nova server as this project needs it.
type Server struct {
	ID               string
	Name             string
	Status           string
	Fault            string // Nova's fault message when Status is ERROR
	TaskState        string
	AvailabilityZone string
	KeyName          string
	FlavorName       string
	ImageID          string // empty for a server booted from a volume
	Metadata         map[string]string
	Tags             []string
	Addresses        []Address
	Created          time.Time
}

// Address is one IP of a server on one network.
type Address struct {
	Network string
	IP      string
	Version int
	Type    string // fixed or floating
	MAC     string
}

// FirstIP returns the first fixed IPv4 address, else the first address, else "".
func (s Server) FirstIP() string {
	for _, a := range s.Addresses {
		if a.Version == 4 && a.Type != "floating" {
			return a.IP
		}
	}
	if len(s.Addresses) > 0 {
		return s.Addresses[0].IP
	}
	return ""
}

// CreateServer asks Nova for a server and returns at once (status BUILD);
// use WaitServerActive to wait for it.
func (c *Client) CreateServer(ctx context.Context, in ServerCreate) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	nets := []servers.Network{{UUID: in.NetworkID, Port: in.PortID, FixedIP: in.FixedIP}}
	if in.NetworkID == "" && in.PortID == "" {
		return Server{}, fmt.Errorf("create server %s: a network or a port is required", in.Name)
	}
	opts := keypairs.CreateOptsExt{
		CreateOptsBuilder: servers.CreateOpts{
			Name:             in.Name,
			FlavorRef:        in.FlavorID,
			ImageRef:         in.ImageID,
			Networks:         nets,
			SecurityGroups:   in.SecurityGroups,
			AvailabilityZone: in.AvailabilityZone,
			Metadata:         in.Metadata,
			Tags:             in.Tags,
			UserData:         in.UserData,
		},
		KeyName: in.KeyName,
	}
	var hints servers.SchedulerHintOptsBuilder
	if in.ServerGroupID != "" {
		hints = servers.SchedulerHintOpts{Group: in.ServerGroupID}
	}
	s, err := servers.Create(ctx, sc, opts, hints).Extract()
	if err != nil {
		return Server{}, fmt.Errorf("create server %s: %w", in.Name, err)
	}
	out := serverOf(s)
	if out.Name == "" {
		out.Name = in.Name
	}
	c.servers.created(out.ID, out.Name)
	return out, nil
}

// GetServer reads a server; IsNotFound(err) when it does not exist.
func (c *Client) GetServer(ctx context.Context, id string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	s, err := servers.Get(ctx, sc, id).Extract()
	if err != nil {
		return Server{}, fmt.Errorf("get server %s: %w", id, err)
	}
	return serverOf(s), nil
}

// WaitServerActive waits until the server is ACTIVE; ERROR ends the wait
// with Nova's fault message. The waits for servers this client created
// share their polls (serverWatch): one list per round serves them all.
func (c *Client) WaitServerActive(ctx context.Context, id string) (Server, error) {
	w := c.createWait(Wait{What: "server " + id, Target: []string{"ACTIVE"}, Pending: []string{"BUILD"}}, serverFirstLook)
	if w.Steady != 0 {
		w.Steady = serverSteady
	}
	get := func(ctx context.Context) (Server, error) { return c.GetServer(ctx, id) }
	if sw := c.servers.join(id); sw != nil {
		defer c.servers.leave(sw)
		w.Wake = sw.wake
		get = func(ctx context.Context) (Server, error) {
			return c.servers.look(ctx, sw, c.listServersNamed, c.GetServer)
		}
	}
	var last Server
	_, err := c.waitStatus(ctx, w,
		func(ctx context.Context) (Observation, error) {
			s, err := get(ctx)
			if err != nil {
				return Observation{}, err
			}
			last = s
			return Observation{Status: s.Status, Fault: s.Fault}, nil
		})
	if err != nil {
		return last, fmt.Errorf("wait for server %s to be ACTIVE: %w", id, err)
	}
	return last, nil
}

// StartServer powers a SHUTOFF server on (Nova's os-start) and waits until
// it is ACTIVE: Nova keeps it SHUTOFF (task_state powering-on) meanwhile.
func (c *Client) StartServer(ctx context.Context, id string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	if err := servers.Start(ctx, sc, id).ExtractErr(); err != nil {
		return Server{}, fmt.Errorf("start server %s: %w", id, err)
	}
	var last Server
	_, err = c.waitStatus(ctx, Wait{What: "server " + id, Target: []string{"ACTIVE"}, Pending: []string{"SHUTOFF"}},
		func(ctx context.Context) (Observation, error) {
			s, err := c.GetServer(ctx, id)
			if err != nil {
				return Observation{}, err
			}
			last = s
			return Observation{Status: s.Status, Fault: s.Fault}, nil
		})
	if err != nil {
		return last, fmt.Errorf("wait for server %s to start: %w", id, err)
	}
	return last, nil
}

// ListServers lists servers whose name starts with namePrefix and whose
// metadata contains every pair of match. Nova's name filter is a regular
// expression, so the prefix is anchored and quoted.
func (c *Client) ListServers(ctx context.Context, namePrefix string, match map[string]string) ([]Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return nil, err
	}
	opts := servers.ListOpts{}
	if namePrefix != "" {
		opts.Name = "^" + regexpQuote(namePrefix)
	}
	pages, err := servers.List(sc, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list servers %s*: %w", namePrefix, err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, fmt.Errorf("list servers %s*: %w", namePrefix, err)
	}
	var out []Server
	for i := range all {
		s := serverOf(&all[i])
		if strings.HasPrefix(s.Name, namePrefix) && metadataMatches(s.Metadata, match) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// listServersNamed lists, in detail, the servers with exactly these names.
func (c *Client) listServersNamed(ctx context.Context, names []string) ([]Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := servers.List(sc, servers.ListOpts{Name: exactNames(names)}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list servers %s: %w", strings.Join(names, ", "), err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, fmt.Errorf("list servers %s: %w", strings.Join(names, ", "), err)
	}
	out := make([]Server, 0, len(all))
	for i := range all {
		out = append(out, serverOf(&all[i]))
	}
	return out, nil
}

func metadataMatches(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DeleteServer deletes a server and waits until Nova no longer knows it. A
// missing server counts as deleted.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	sc, err := c.Compute(ctx)
	if err != nil {
		return err
	}
	if err := servers.Delete(ctx, sc, id).ExtractErr(); err != nil {
		if IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete server %s: %w", id, err)
	}
	_, err = c.waitStatus(ctx, Wait{What: "server " + id, Target: []string{"DELETED", "SOFT_DELETED"}, GoneOK: true, Failed: []string{}},
		func(ctx context.Context) (Observation, error) {
			return c.deletingServers.look(ctx, "server", id, func(ctx context.Context) (map[string]string, error) {
				all, err := c.ListServers(ctx, "", nil)
				st := map[string]string{}
				for _, s := range all {
					st[s.ID] = s.Status
				}
				return st, err
			})
		})
	if err != nil {
		return fmt.Errorf("delete server %s: %w", id, err)
	}
	return nil
}

// ConsoleOutput returns the last lines of the server's console log (all of
// it when lines <= 0).
func (c *Client) ConsoleOutput(ctx context.Context, id string, lines int) (string, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return "", err
	}
	out, err := servers.ShowConsoleOutput(ctx, sc, id, servers.ShowConsoleOutputOpts{Length: lines}).Extract()
	if err != nil {
		return "", fmt.Errorf("get console output of server %s: %w", id, err)
	}
	return out, nil
}

func serverOf(s *servers.Server) Server {
	out := Server{
		ID:               s.ID,
		Name:             s.Name,
		Status:           s.Status,
		Fault:            s.Fault.Message,
		TaskState:        s.TaskState,
		AvailabilityZone: s.AvailabilityZone,
		KeyName:          s.KeyName,
		Metadata:         s.Metadata,
		Created:          s.Created,
	}
	if s.Tags != nil {
		out.Tags = *s.Tags
	}
	if name, ok := s.Flavor["original_name"].(string); ok {
		out.FlavorName = name
	}
	if id, ok := s.Image["id"].(string); ok {
		out.ImageID = id
	}
	nets := make([]string, 0, len(s.Addresses))
	for n := range s.Addresses {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	for _, n := range nets {
		list, _ := s.Addresses[n].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			a := Address{Network: n}
			a.IP, _ = m["addr"].(string)
			if v, ok := m["version"].(float64); ok {
				a.Version = int(v)
			}
			a.Type, _ = m["OS-EXT-IPS:type"].(string)
			a.MAC, _ = m["OS-EXT-IPS-MAC:mac_addr"].(string)
			if a.IP != "" {
				out.Addresses = append(out.Addresses, a)
			}
		}
	}
	return out
}

// VolumeAttachment is a volume attached to a server (Nova's view).
type VolumeAttachment struct {
	ServerID string
	VolumeID string
	Device   string
}

// StartVolumeAttach asks Nova to attach a volume to a server and returns
// at once: the hypervisor plugs the disk in, and Cinder calls the volume
// in-use, moments later (WaitVolumeAttached).
func (c *Client) StartVolumeAttach(ctx context.Context, serverID, volumeID string) (VolumeAttachment, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return VolumeAttachment{}, err
	}
	a, err := volumeattach.Create(ctx, sc, serverID, volumeattach.CreateOpts{VolumeID: volumeID}).Extract()
	if err != nil {
		return VolumeAttachment{}, fmt.Errorf("attach volume %s to server %s: %w", volumeID, serverID, err)
	}
	return VolumeAttachment{ServerID: serverID, VolumeID: volumeID, Device: a.Device}, nil
}

// WaitVolumeAttached waits until Cinder reports a volume whose attach was
// started in-use.
func (c *Client) WaitVolumeAttached(ctx context.Context, serverID, volumeID string) error {
	w := c.createWait(Wait{What: "volume " + volumeID, Target: []string{"in-use"},
		Pending: []string{"available", "reserved", "attaching"}, Failed: volumeFailed}, attachFirstLook)
	if _, err := c.waitVolume(ctx, w, volumeID); err != nil {
		return fmt.Errorf("attach volume %s to server %s: %w", volumeID, serverID, err)
	}
	return nil
}

// ListVolumeAttachments lists the volumes attached to a server.
func (c *Client) ListVolumeAttachments(ctx context.Context, serverID string) ([]VolumeAttachment, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := volumeattach.List(sc, serverID).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list volume attachments of server %s: %w", serverID, err)
	}
	all, err := volumeattach.ExtractVolumeAttachments(pages)
	if err != nil {
		return nil, fmt.Errorf("list volume attachments of server %s: %w", serverID, err)
	}
	out := make([]VolumeAttachment, 0, len(all))
	for _, a := range all {
		out = append(out, VolumeAttachment{ServerID: a.ServerID, VolumeID: a.VolumeID, Device: a.Device})
	}
	return out, nil
}

// DetachVolume detaches a volume from a server and waits until Cinder says
// it is available (or gone). Not attached, or no such server, counts as done.
func (c *Client) DetachVolume(ctx context.Context, serverID, volumeID string) error {
	sc, err := c.Compute(ctx)
	if err != nil {
		return err
	}
	if err := volumeattach.Delete(ctx, sc, serverID, volumeID).ExtractErr(); err != nil {
		if !IsNotFound(err) {
			return fmt.Errorf("detach volume %s from server %s: %w", volumeID, serverID, err)
		}
	}
	_, err = c.WaitVolume(ctx, volumeID, []string{"available"}, []string{"in-use", "detaching"})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("detach volume %s from server %s: %w", volumeID, serverID, err)
	}
	return nil
}
