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
	// InitLess boots servers as init-less hosts (sshd as PID 1 over the
	// machine's own filesystem, a synthesised console) instead of their
	// image with systemd as PID 1: fast, for the guest library's tests.
	InitLess bool
	// Logf, if set, gets the one-line notes of an image build (minutes, once
	// per machine) when a server needs an image not yet cached.
	Logf func(format string, args ...any)
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
// show no host key fingerprint block on their console: cloud-init prints
// none (ssh.emit_keys_to_console: false), and a block the user data prints
// is left out of the console log too, as a cloud whose console log never
// shows it; callers hold Mu.
func (c *Service) HideConsoleFingerprints(prefix string) {
	c.quietConsolePrefixes = append(c.quietConsolePrefixes, prefix)
}

// withoutFingerprintBlocks is the console without its fingerprint blocks.
func withoutFingerprintBlocks(lines []string) []string {
	var out []string
	inBlock := false
	for _, l := range lines {
		switch {
		case strings.Contains(l, "-----BEGIN SSH HOST KEY FINGERPRINTS-----"):
			inBlock = true
		case strings.Contains(l, "-----END SSH HOST KEY FINGERPRINTS-----"):
			inBlock = false
		case !inBlock:
			out = append(out, l)
		}
	}
	return out
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
