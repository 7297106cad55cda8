package nova

import (
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Config is what Nova needs from the cloud's configuration.
type Config struct {
	// Hypervisors is the number of simulated compute hosts server group
	// policies are checked against, spread over AvailabilityZones.
	Hypervisors       int
	AvailabilityZones []string
}

// Service serves Nova below /compute: flavors, keypairs, server groups,
// servers (each one host on this machine), their actions, console, tags,
// metadata and volume attachments.
type Service struct {
	*state.Store
	cfg     Config
	baseURL string // the API listener, for links
	authed  core.Authed
	neutron *neutron.Service // ports, addresses and firewalls of servers

	// nextServerErrors makes the next N server builds end in ERROR
	// (guarded by Mu).
	nextServerErrors int
	nextServerErrMsg string
	// quietConsolePrefixes: servers whose name starts with one boot
	// without printing their host key fingerprints, as cloud-init does with
	// ssh.emit_keys_to_console: false (guarded by Mu).
	quietConsolePrefixes []string
	// failResize: the next resize of these servers fails with the message
	// (guarded by Mu).
	failResize map[string]string
	// failRebuild: the next rebuild of these servers fails with the
	// message (guarded by Mu; rebuild.go).
	failRebuild map[string]string
}

// New builds the compute service over the shared store.
func New(st *state.Store, cfg Config, baseURL string, authed core.Authed, net *neutron.Service) *Service {
	return &Service{Store: st, cfg: cfg, baseURL: baseURL, authed: authed, neutron: net}
}

// HideConsoleFingerprints makes servers whose name starts with prefix
// boot without the host key fingerprint blocks on their console; callers
// hold Mu.
func (c *Service) HideConsoleFingerprints(prefix string) {
	c.quietConsolePrefixes = append(c.quietConsolePrefixes, prefix)
}

func (c *Service) consoleHidesFingerprints(name string) bool {
	for _, p := range c.quietConsolePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// FailNextBuilds makes the next count server builds end in ERROR with msg
// (empty: a default fault); callers hold Mu.
func (c *Service) FailNextBuilds(count int, msg string) {
	c.nextServerErrors, c.nextServerErrMsg = count, msg
}

// FailNextResize makes the next resize of server id fail as Nova's does
// when the scheduler finds no host for the new flavor: the server goes
// back to its state before, on its old flavor, without a reboot, and the
// fault is recorded (Nova shows it only on a server in ERROR). msg empty:
// Nova's NoValidHost message. Callers hold Mu.
func (c *Service) FailNextResize(id, msg string) bool {
	if _, ok := c.St.Servers[id]; !ok {
		return false
	}
	if msg == "" {
		msg = "No valid host was found. No host can take the new flavor."
	}
	if c.failResize == nil {
		c.failResize = map[string]string{}
	}
	c.failResize[id] = msg
	return true
}
