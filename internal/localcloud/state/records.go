package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
)

// The types below are the cloud's records. They are saved, as JSON, in the
// state file after every change, so a restarted process keeps its users,
// keypairs, security groups and server groups.

type Keypair struct {
	Name        string    `json:"name"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	UserID      string    `json:"user_id"`
	ID          int       `json:"id"`
	CreatedAt   time.Time `json:"created_at"`
}

type ServerGroup struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Policy    string   `json:"policy"`
	MaxPerHV  int      `json:"max_server_per_host,omitempty"`
	Members   []string `json:"members"`
	ProjectID string   `json:"project_id"`
	UserID    string   `json:"user_id"`
}

type SecGroup struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	ProjectID   string    `json:"project_id"`
	Stateful    bool      `json:"stateful"`
	Revision    int       `json:"revision_number"`
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type Rule struct {
	ID             string    `json:"id"`
	GroupID        string    `json:"security_group_id"`
	Direction      string    `json:"direction"`
	Ethertype      string    `json:"ethertype"`
	Protocol       string    `json:"protocol"` // "" means any
	PortMin        *int      `json:"port_range_min"`
	PortMax        *int      `json:"port_range_max"`
	RemoteIPPrefix string    `json:"remote_ip_prefix"`
	RemoteGroupID  string    `json:"remote_group_id"`
	Description    string    `json:"description"`
	ProjectID      string    `json:"project_id"`
	CreatedAt      time.Time `json:"created_at"`
}

type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address"`
}

type Port struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Description    string        `json:"description"`
	NetworkID      string        `json:"network_id"`
	FixedIPs       []FixedIP     `json:"fixed_ips"`
	MAC            string        `json:"mac_address"`
	SecurityGroups []string      `json:"security_groups"`
	PortSecurity   bool          `json:"port_security_enabled"`
	AdminStateUp   bool          `json:"admin_state_up"`
	DeviceID       string        `json:"device_id"`
	DeviceOwner    string        `json:"device_owner"`
	AddressPairs   []AddressPair `json:"allowed_address_pairs"`
	ProjectID      string        `json:"project_id"`
	Tags           []string      `json:"tags"`
	Revision       int           `json:"revision_number"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	// CreatedByNova marks a port nova made for `networks: [{uuid}]`; nova
	// deletes those with the server.
	CreatedByNova bool `json:"created_by_nova"`
	// VIP marks the port of a load balancer's VIP (made by the load-balancer
	// service); the VIP namespace, not the port, holds the address.
	VIP bool `json:"vip"`
}

// FloatingIP is an address of the external network; when PortID is set it
// answers for that port's fixed address (see floatingips.go).
type FloatingIP struct {
	ID          string    `json:"id"`
	Address     string    `json:"floating_ip_address"`
	PortID      string    `json:"port_id"`
	FixedIP     string    `json:"fixed_ip_address"`
	Active      bool      `json:"active"` // the alias is in place on the port's owner
	Description string    `json:"description"`
	ProjectID   string    `json:"project_id"`
	Revision    int       `json:"revision_number"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type VolumeAttachment struct {
	AttachmentID string    `json:"attachment_id"`
	ServerID     string    `json:"server_id"`
	Device       string    `json:"device"`
	AttachedAt   time.Time `json:"attached_at"`
}

type Volume struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Size        int                `json:"size"`
	Status      string             `json:"status"`
	AZ          string             `json:"availability_zone"`
	VolumeType  string             `json:"volume_type"`
	Metadata    map[string]string  `json:"metadata"`
	Attachments []VolumeAttachment `json:"attachments"`
	ProjectID   string             `json:"project_id"`
	UserID      string             `json:"user_id"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

type ServerVolume struct {
	VolumeID string `json:"volume_id"`
	Device   string `json:"device"`
}

type ServerFault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details"`
	Created time.Time `json:"created"`
}

type Server struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Hostname       string            `json:"hostname"`
	Description    *string           `json:"description"`
	ProjectID      string            `json:"project_id"`
	UserID         string            `json:"user_id"`
	FlavorID       string            `json:"flavor_id"`
	OldFlavorID    string            `json:"old_flavor_id"`
	ImageID        string            `json:"image_id"`
	KeyName        string            `json:"key_name"`
	Metadata       map[string]string `json:"metadata"`
	AZ             string            `json:"availability_zone"`
	Hypervisor     string            `json:"hypervisor"`
	RequestedHost  string            `json:"requested_host"` // 2.74 host / hypervisor_hostname
	GroupID        string            `json:"group_id"`
	PortIDs        []string          `json:"port_ids"`
	SecurityGroups []string          `json:"security_group_names"` // as requested, for the create answer
	VMState        string            `json:"vm_state"`
	TaskState      string            `json:"task_state"`
	PowerState     int               `json:"power_state"`
	Fault          *ServerFault      `json:"fault"`
	Volumes        []ServerVolume    `json:"volumes"`
	Console        []string          `json:"console"`
	Deleting       bool              `json:"deleting"`
	UserData       string            `json:"user_data"`
	Tags           []string          `json:"tags"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	LaunchedAt     time.Time         `json:"launched_at"`
}

// Persisted is the state file's content.
type Persisted struct {
	keystone.Identity
	NetworkID      string                  `json:"network_id"`
	SubnetID       string                  `json:"subnet_id"`
	DefaultSGID    string                  `json:"default_sg_id"`
	PublicNetID    string                  `json:"public_network_id"`
	PublicSubnetID string                  `json:"public_subnet_id"`
	Keypairs       map[string]*Keypair     `json:"keypairs"`
	NextKeypairID  int                     `json:"next_keypair_id"`
	ServerGroups   map[string]*ServerGroup `json:"server_groups"`
	SecurityGroups map[string]*SecGroup    `json:"security_groups"`
	Rules          map[string]*Rule        `json:"security_group_rules"`
	Ports          map[string]*Port        `json:"ports"`
	Servers        map[string]*Server      `json:"servers"`
	Volumes        map[string]*Volume      `json:"volumes"`
	FloatingIPs    map[string]*FloatingIP  `json:"floatingips"`
}

func NewPersisted() *Persisted {
	return &Persisted{
		Identity:       keystone.Identity{AppCreds: map[string]*keystone.AppCredential{}},
		Keypairs:       map[string]*Keypair{},
		ServerGroups:   map[string]*ServerGroup{},
		SecurityGroups: map[string]*SecGroup{},
		Rules:          map[string]*Rule{},
		Ports:          map[string]*Port{},
		Servers:        map[string]*Server{},
		Volumes:        map[string]*Volume{},
		FloatingIPs:    map[string]*FloatingIP{},
		NextKeypairID:  1,
	}
}

// ErrStaleState says a previous process left servers, volumes or ports whose
// hosts and devices no longer exist.
var ErrStaleState = errors.New("state from a previous run exists")

// FileName is the state file's name in the state directory.
const FileName = "state.json"

// Load reads the state file in dir. A missing file gives a fresh state.
// A file that records servers, volumes or ports gives ErrStaleState: their
// hosts, loop devices and addresses died with the process that made them.
func Load(dir string) (*Persisted, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewPersisted(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	st := NewPersisted()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("parse state file %s: %w (remove it to start afresh)", path, err)
	}
	if len(st.Servers) > 0 || len(st.Volumes) > 0 || len(st.Ports) > 0 || len(st.FloatingIPs) > 0 {
		return nil, fmt.Errorf("%w in %s (%d servers, %d volumes, %d ports, %d floating IPs) and its hosts and disks are gone; "+
			"run `make localcloud-down` (or `localcloud down --dir %s`) to clean up", ErrStaleState, path,
			len(st.Servers), len(st.Volumes), len(st.Ports), len(st.FloatingIPs), dir)
	}
	if st.AppCreds == nil {
		st.AppCreds = map[string]*keystone.AppCredential{}
	}
	if st.Keypairs == nil {
		st.Keypairs = map[string]*Keypair{}
	}
	if st.ServerGroups == nil {
		st.ServerGroups = map[string]*ServerGroup{}
	}
	if st.SecurityGroups == nil {
		st.SecurityGroups = map[string]*SecGroup{}
	}
	if st.Rules == nil {
		st.Rules = map[string]*Rule{}
	}
	if st.Ports == nil {
		st.Ports = map[string]*Port{}
	}
	if st.Servers == nil {
		st.Servers = map[string]*Server{}
	}
	if st.Volumes == nil {
		st.Volumes = map[string]*Volume{}
	}
	if st.FloatingIPs == nil {
		st.FloatingIPs = map[string]*FloatingIP{}
	}
	return st, nil
}

// Save writes the state atomically with mode 0600 (it holds the password).
func Save(dir string, st *Persisted) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := filepath.Join(dir, FileName+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("replace state file: %w", err)
	}
	return nil
}

// RemoveState deletes the state file in dir (after `localcloud down` has
// cleaned up what it described).
func RemoveState(dir string) error {
	err := os.Remove(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Status is Neutron's status of the floating IP: ACTIVE while associated and
// in place on the port's owner, DOWN otherwise.
func (f *FloatingIP) Status() string {
	if f.PortID != "" && f.Active {
		return "ACTIVE"
	}
	return "DOWN"
}
