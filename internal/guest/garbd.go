package guest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"
)

// An arbitrator is a Galera arbitrator (garbd): a voting member that holds
// no data, so two data nodes and one arbitrator keep a quorum when either
// data node fails. It joins the group as a member of the gcomm:// list of
// the data nodes, takes no state transfer, and shows in every data node's
// wsrep_cluster_size.

// PhaseArbitrator names arbitrator steps in events and NodeError.
const PhaseArbitrator = "arbitrator"

// garbd's files sit next to the server's (/etc/mysql, /var/log/mysql),
// made when missing: an arbitrator host may have no server package.
const (
	garbdBinary  = "/usr/bin/garbd"
	garbdConfig  = "/etc/mysql/pxc-garbd.cnf"
	garbdUnit    = "/etc/systemd/system/pxc-garbd.service"
	garbdLog     = "/var/log/mysql/pxc-garbd.log"
	garbdRunAs   = "nobody"
	garbdService = "pxc-garbd.service"
)

// garbdPackages are the distribution packages that carry garbd.
func garbdPackages(s ClusterSpec) []string {
	switch {
	case s.Flavour == Percona && s.Version == "5.7":
		return []string{"percona-xtradb-cluster-garbd-5.7"}
	case s.Flavour == Percona:
		return []string{"percona-xtradb-cluster-garbd"}
	}
	return []string{"galera-arbitrator-4"}
}

// validateArbitrators checks the arbitrators against the data members: the
// names and addresses share one namespace.
func validateArbitrators(s ClusterSpec) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(s.Arbitrators) > 0 && s.encrypt() {
		bad("arbitrators: encrypted cluster traffic (percona 8.0) needs the cluster's certificates on the arbitrator, which the library does not copy yet; set EncryptClusterTraffic to false")
	}
	names, addrs := map[string]bool{}, map[string]bool{}
	for _, n := range s.Nodes {
		names[n.Name], addrs[n.Address] = true, true
	}
	for i, a := range s.Arbitrators {
		switch {
		case !nodeNameRe.MatchString(a.Name):
			bad("arbitrator %d: name %q: use letters, digits, '.', '-' or '_' (at most 64)", i+1, a.Name)
		case names[a.Name]:
			bad("arbitrator %d: name %q is used twice", i+1, a.Name)
		}
		names[a.Name] = true
		if ip, err := netip.ParseAddr(a.Address); err != nil || ip.Zone() != "" || ip.IsUnspecified() {
			bad("arbitrator %q: address %q is not an IP address", a.Name, a.Address)
		} else if addrs[a.Address] {
			bad("arbitrator %q: address %s is used twice", a.Name, a.Address)
		}
		addrs[a.Address] = true
		if a.SSH == nil && a.Runner == nil {
			bad("arbitrator %q: neither SSH nor Runner is set", a.Name)
		}
		if !a.DataVolume.isZero() {
			bad("arbitrator %q: an arbitrator holds no data and takes no data volume", a.Name)
		}
	}
	return errs
}

// renderGarbdConfig is garbd's --cfg file: the group is the cluster name,
// the address lists the data members (garbd takes no state, so no sst
// request), and the provider options carry what the data members use for
// failure detection, so the arbitrator drops a dead node as fast as they do.
func renderGarbdConfig(s ClusterSpec, self Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Galera arbitrator %s, written by the pxc guest library.\n", self.Name)
	fmt.Fprintf(&b, "name = %s\n", self.Name)
	fmt.Fprintf(&b, "group = %s\n", s.Name)
	fmt.Fprintf(&b, "address = %s\n", gcommAddress(s.Nodes))
	opts := "gmcast.listen_addr=tcp://0.0.0.0:4567"
	if s.SuspectTimeout > 0 {
		opts += fmt.Sprintf(";evs.suspect_timeout=PT%gS", s.SuspectTimeout.Seconds())
	}
	// The members speak TLS to each other: so must the arbitrator.
	if s.TLS.enabled() {
		opts += ";socket.ssl_ca=" + TLSCAFile + ";socket.ssl_cert=" + TLSCertFile + ";socket.ssl_key=" + TLSKeyFile
	}
	fmt.Fprintf(&b, "options = %s\n", opts)
	return b.String()
}

// garbdUnitFile runs garbd under systemd as an unprivileged user; it logs
// to the journal.
func garbdUnitFile() string {
	return `[Unit]
Description=Galera arbitrator (pxc guest library)
After=network-online.target
Wants=network-online.target

[Service]
User=` + garbdRunAs + `
ExecStart=` + garbdBinary + ` --cfg ` + garbdConfig + `
KillSignal=SIGINT
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
`
}

// garbdRunning is the pgrep that finds this library's garbd: anchored at
// the start of the command line, so it never matches a shell whose script
// merely mentions garbd (such as the start command itself).
const garbdRunning = `pgrep -f -- '^` + garbdBinary + ` --cfg ` + garbdConfig + `' >/dev/null`

// garbdStartCommand starts garbd the way the host runs services: a systemd
// unit, or (no systemd) detached with setsid as an unprivileged user, every
// stream redirected so the SSH command returns. A changed configuration
// restarts it: garbd reads its address list only at start.
func garbdStartCommand(init InitSystem, changed bool) string {
	if init == InitSystemd {
		verb := "start"
		if changed {
			verb = "restart"
		}
		return "systemctl daemon-reload && systemctl enable " + garbdService + " && systemctl " + verb + " " + garbdService
	}
	restart := ""
	if changed {
		restart = garbdSignal + "; for i in $(seq 1 50); do " + garbdRunning + " || break; sleep 0.1; done; "
	}
	// garbd logs to stderr, which this (root) shell appends to the log, so
	// the unprivileged garbd needs no write access anywhere.
	return restart + "install -d -m 755 " + path.Dir(garbdLog) + " || exit 1; " +
		"if ! " + garbdRunning + "; then setsid setpriv --reuid=" + garbdRunAs + " --regid=nogroup --clear-groups --inh-caps=-all " +
		garbdBinary + " --cfg " + garbdConfig + " </dev/null >>" + garbdLog + " 2>&1 & fi"
}

// garbdSignal asks this library's garbd to leave (SIGINT: a clean leave).
const garbdSignal = `pkill -INT -f -- '^` + garbdBinary + ` --cfg ` + garbdConfig + `'`

// garbdStopCommand stops garbd with SIGINT (a clean leave: the others shrink
// the group at once instead of waiting for the suspect timeout) and waits
// until it is gone.
func garbdStopCommand(init InitSystem) string {
	if init == InitSystemd {
		return "systemctl disable --now " + garbdService + " 2>/dev/null || true; for i in $(seq 1 100); do " + garbdRunning + " || exit 0; sleep 0.1; done; echo 'garbd still running' >&2; exit 1"
	}
	return garbdSignal + "; for i in $(seq 1 100); do " + garbdRunning + " || exit 0; sleep 0.1; done; echo 'garbd still running' >&2; exit 1"
}

func (c *Cluster) arbitrator(name string) (*node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.arbitrators {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("no arbitrator named %q", name)
}

// StartArbitrator makes the named arbitrator a connected voting member:
// garbd present (installed when InstallPackages allows), its configuration
// written, started (restarted when the configuration changed), and then
// waited for until a healthy data member counts it: wsrep_cluster_size is
// the data members plus the arbitrators. Safe to re-run.
func (c *Cluster) StartArbitrator(ctx context.Context, name string) error {
	a, err := c.arbitrator(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.startArbitrator(ctx, a); err != nil {
		return &NodeError{Phase: PhaseArbitrator, Node: name, Err: err}
	}
	c.emitDone(PhaseArbitrator, name, start, "garbd connected, cluster size %d", c.votingMembers())
	return nil
}

func (c *Cluster) startArbitrator(ctx context.Context, a *node) error {
	if err := c.detectInit(ctx, a); err != nil {
		return err
	}
	if err := c.ensureGarbd(ctx, a); err != nil {
		return err
	}
	if err := c.ensureTLSFiles(ctx, a, garbdRunAs); err != nil {
		return err
	}
	cfg := renderGarbdConfig(c.spec, a.Node)
	old, err := a.run(ctx, "install -d -m 755 "+path.Dir(garbdConfig)+" && { cat "+garbdConfig+" 2>/dev/null || true; }", nil)
	if err != nil {
		return fmt.Errorf("read garbd configuration: %w", err)
	}
	changed := old != cfg
	if changed {
		if err := a.upload(ctx, garbdConfig, []byte(cfg), 0o644); err != nil {
			return fmt.Errorf("write garbd configuration: %w", err)
		}
	}
	if a.init == InitSystemd {
		if err := a.upload(ctx, garbdUnit, []byte(garbdUnitFile()), 0o644); err != nil {
			return fmt.Errorf("write garbd unit: %w", err)
		}
	}
	if _, err := a.run(ctx, garbdStartCommand(a.init, changed), nil); err != nil {
		return fmt.Errorf("start garbd: %w", err)
	}
	return c.waitArbitratorCounted(ctx, a)
}

// ensureGarbd checks for the garbd binary and installs its package when it
// is missing and installation is allowed.
func (c *Cluster) ensureGarbd(ctx context.Context, a *node) error {
	out, err := a.run(ctx, "if [ -x "+garbdBinary+" ]; then echo present; else echo missing; fi", nil)
	if err != nil {
		return fmt.Errorf("check garbd: %w", err)
	}
	if strings.TrimSpace(out) == "present" {
		return nil
	}
	pkgs := strings.Join(garbdPackages(c.spec), " ")
	if !c.spec.InstallPackages {
		return fmt.Errorf("%s is missing (package %s) and package installation is off", garbdBinary, pkgs)
	}
	// The package's own garb service must not start unconfigured.
	install := "(apt-get update -q || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q " + pkgs +
		" && (systemctl disable --now garb.service 2>/dev/null || true)"
	if _, err := a.run(ctx, install, nil); err != nil {
		return fmt.Errorf("install %s: %w", pkgs, err)
	}
	return nil
}

// votingMembers is the group size a complete cluster shows.
func (c *Cluster) votingMembers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.members) + len(c.arbitrators)
}

// waitArbitratorCounted waits until a healthy data member sees every voting
// member, the arbitrators included, and the arbitrator's garbd still runs.
func (c *Cluster) waitArbitratorCounted(ctx context.Context, a *node) error {
	want := c.votingMembers()
	ctx, cancel := context.WithTimeout(ctx, c.opts.startTimeout)
	defer cancel()
	last := "no healthy data member answered"
	for {
		for _, n := range c.nodes() {
			st, err := c.nodeStatus(ctx, n)
			if err != nil || !st.Healthy() {
				continue
			}
			if st.ClusterSize == want {
				if _, err := a.run(ctx, garbdRunning, nil); err != nil {
					return fmt.Errorf("garbd is not running: %s", c.garbdLogTail(ctx, a))
				}
				return nil
			}
			last = fmt.Sprintf("%s sees cluster size %d, want %d", n.Name, st.ClusterSize, want)
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("garbd did not join within %s: %s; %s", c.opts.startTimeout, last, c.garbdLogTail(context.WithoutCancel(ctx), a))
		case <-time.After(c.opts.poll):
		}
	}
}

func (c *Cluster) garbdLogTail(ctx context.Context, a *node) string {
	cmd := "tail -n 10 " + garbdLog + " 2>/dev/null"
	if a.init == InitSystemd {
		cmd = "journalctl -u " + garbdService + " -n 10 --no-pager 2>/dev/null"
	}
	out, err := a.run(ctx, cmd, nil)
	if err != nil || strings.TrimSpace(out) == "" {
		return "no garbd log"
	}
	return "garbd log: " + strings.TrimSpace(out)
}

// StopArbitrator stops the named arbitrator's garbd cleanly (the group
// shrinks at once) and forgets it, so the expected group size follows.
func (c *Cluster) StopArbitrator(ctx context.Context, name string) error {
	a, err := c.arbitrator(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.detectInit(ctx, a); err != nil {
		return &NodeError{Phase: PhaseArbitrator, Node: name, Err: err}
	}
	if _, err := a.run(ctx, garbdStopCommand(a.init), nil); err != nil {
		return &NodeError{Phase: PhaseArbitrator, Node: name, Err: fmt.Errorf("stop garbd: %w", err)}
	}
	c.mu.Lock()
	var rest []*node
	for _, o := range c.arbitrators {
		if o != a {
			rest = append(rest, o)
		}
	}
	c.arbitrators = rest
	c.mu.Unlock()
	a.close()
	c.emitDone(PhaseArbitrator, name, start, "garbd stopped; %d voting members remain", c.votingMembers())
	return nil
}

// ArbitratorRunning reports whether the named arbitrator's garbd runs.
func (c *Cluster) ArbitratorRunning(ctx context.Context, name string) (bool, error) {
	a, err := c.arbitrator(name)
	if err != nil {
		return false, err
	}
	_, err = a.run(ctx, garbdRunning, nil)
	var ce *CommandError
	if errors.As(err, &ce) && ce.ExitCode == 1 {
		return false, nil
	}
	return err == nil, err
}
