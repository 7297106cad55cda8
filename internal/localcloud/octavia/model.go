package octavia

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Provisioning statuses (octavia_lib constants).
const (
	active        = "ACTIVE"
	provError     = "ERROR"
	pendingCreate = "PENDING_CREATE"
	pendingUpdate = "PENDING_UPDATE"
	pendingDelete = "PENDING_DELETE"
)

// Operating statuses.
const (
	online    = "ONLINE"
	offline   = "OFFLINE"
	degraded  = "DEGRADED"
	opError   = "ERROR"
	noMonitor = "NO_MONITOR"
	draining  = "DRAINING"
)

const timeFormat = "2006-01-02T15:04:05"

// meta is what every object has.
type meta struct {
	ID, ProjectID, Name, Description string
	AdminStateUp                     bool
	ProvisioningStatus               string
	// op is the last operating status computed from HAProxy, used while no
	// fresh answer is available (reload in progress).
	op        string
	Tags      []string
	CreatedAt time.Time
	UpdatedAt time.Time // zero: never updated (null)
	seq       int64     // creation order
	// failing marks a child an armed child fault fails (FailNextChild):
	// it settles in ERROR and stays out of HAProxy until it changes again.
	failing bool
}

func (m *meta) pending() bool {
	switch m.ProvisioningStatus {
	case pendingCreate, pendingUpdate, pendingDelete:
		return true
	}
	return false
}

type loadBalancer struct {
	meta
	VIPAddress, VIPPortID, VIPSubnetID, VIPNetworkID string
	VIPQoSPolicyID                                   *string
	Provider                                         string
	Listeners, Pools                                 []string // ids in creation order
	amp                                              *amphora
	stats                                            map[string]string // "<pxname>/<svname>" -> status
	statsErr                                         error
	statsAt                                          time.Time
	frontend                                         map[string]frontendCounters
}

type frontendCounters struct {
	cur, total, reqErrs int
	in, out             int64
}

type listener struct {
	meta
	LBID                                                                          string
	Protocol                                                                      string
	Port                                                                          int
	ConnectionLimit                                                               int
	DefaultPoolID                                                                 string
	TimeoutClientData, TimeoutMemberConnect, TimeoutMemberData, TimeoutTCPInspect int
	InsertHeaders                                                                 map[string]string
	AllowedCIDRs                                                                  []string
}

type sessionPersistence struct {
	Type       string
	CookieName string
}

type pool struct {
	meta
	LBID        string
	Protocol    string
	Algorithm   string
	Persistence *sessionPersistence
	MonitorID   string
	Members     []string
}

type member struct {
	meta
	PoolID         string
	Address        string
	Port           int
	Weight         int
	Backup         bool
	SubnetID       *string
	MonitorAddress *string
	MonitorPort    *int
}

type monitor struct {
	meta
	PoolID         string
	Type           string
	Delay          int
	Timeout        int
	MaxRetries     int
	MaxRetriesDown int
	HTTPMethod     *string
	URLPath        *string
	ExpectedCodes  *string
	HTTPVersion    *float64
	DomainName     *string
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

func tags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

type idRef struct {
	ID string `json:"id"`
}

func refs(ids []string) []idRef {
	out := make([]idRef, 0, len(ids))
	for _, id := range ids {
		out = append(out, idRef{ID: id})
	}
	return out
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
