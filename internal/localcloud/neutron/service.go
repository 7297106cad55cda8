package neutron

import (
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Service serves Neutron below /network: the ready-made networks and
// subnets, ports, security groups and rules (enforced with nftables in the
// hosts), floating IPs, tags.
type Service struct {
	*state.Store
	baseURL string   // the API listener, for version links
	zones   []string // availability zones the networks report
	authed  core.Authed
}

// New builds the network service over the shared store.
func New(st *state.Store, baseURL string, zones []string, authed core.Authed) *Service {
	return &Service{Store: st, baseURL: baseURL, zones: zones, authed: authed}
}
