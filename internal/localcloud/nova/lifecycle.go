package nova

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

type bootSpec struct {
	netMode string // "list", "auto" or "none"
	portID  string // an existing port to bind
	fixedIP string // for a port nova creates
	sgIDs   []string
	// volumes are the data volumes of block_device_mapping_v2, reserved
	// by the create and attached during the build.
	volumes []state.ServerVolume
}

// fail puts a server in ERROR with a fault; callers hold c.mu.
func (c *Service) failServerLocked(s *state.Server, code int, msg, details string) {
	s.VMState = "error"
	s.TaskState = ""
	s.PowerState = 0
	s.Fault = &state.ServerFault{Code: code, Message: msg, Details: details, Created: time.Now()}
	s.UpdatedAt = time.Now()
	c.Save()
}

// setTask changes a live server's task state; false when it is being deleted.
func (c *Service) setTask(id, task string) bool {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.setTaskLocked(id, task) == nil {
		return false
	}
	c.Save()
	return true
}

// setTaskLocked is setTask for callers that hold c.Mu and save; nil when
// the server is gone or being deleted.
func (c *Service) setTaskLocked(id, task string) *state.Server {
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting {
		return nil
	}
	s.TaskState = task
	s.UpdatedAt = time.Now()
	return s
}

// schedule picks a hypervisor honouring the server group policy; callers
// hold c.mu. "" means no valid host.
func (c *Service) scheduleLocked(s *state.Server) string {
	used := map[string]int{} // hypervisor -> members of the group on it
	var g *state.ServerGroup
	if s.GroupID != "" {
		g = c.St.ServerGroups[s.GroupID]
	}
	if g != nil {
		for _, m := range g.Members {
			if o, ok := c.St.Servers[m]; ok && m != s.ID && o.Hypervisor != "" && !o.Deleting {
				used[o.Hypervisor]++
			}
		}
	}
	load := map[string]int{}
	for _, o := range c.St.Servers {
		if o.Hypervisor != "" && !o.Deleting {
			load[o.Hypervisor]++
		}
	}
	var cands []string
	for i := 0; i < c.cfg.Hypervisors; i++ {
		if s.RequestedHost != "" && c.hypervisorName(i) != s.RequestedHost {
			continue
		}
		if s.AZ == "" || c.hypervisorZone(i) == s.AZ {
			cands = append(cands, c.hypervisorName(i))
		}
	}
	best := ""
	bestScore := 1 << 30
	for _, h := range cands {
		score := load[h]
		if g != nil {
			switch g.Policy {
			case "anti-affinity":
				max := g.MaxPerHV
				if max < 1 {
					max = 1
				}
				if used[h] >= max {
					continue
				}
			case "soft-anti-affinity":
				score += used[h] * 1000
			case "affinity":
				if len(used) > 0 && used[h] == 0 {
					continue
				}
			case "soft-affinity":
				score -= used[h] * 1000
			}
		}
		if score < bestScore {
			best, bestScore = h, score
		}
	}
	return best
}

// bootServer is the asynchronous part of a create: schedule, network,
// map the block devices (only with boot volumes), spawn the host, attach
// the volumes, check sshd and the key, then ACTIVE.
func (c *Service) bootServer(ctx context.Context, id string, spec bootSpec) {
	if !c.SleepStep(ctx) || !c.setTask(id, "scheduling") {
		return
	}
	c.Mu.Lock()
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting {
		c.Mu.Unlock()
		return
	}
	if c.nextServerErrors > 0 {
		c.nextServerErrors--
		msg := firstNonEmpty(c.nextServerErrMsg, "Build of instance "+id+" aborted: injected fault (localcloud admin)")
		c.failBuildLocked(s, msg, "injected by POST /_admin/next-server-error")
		c.releaseBootPortLocked(s, spec)
		c.Mu.Unlock()
		return
	}
	hv := c.scheduleLocked(s)
	if hv == "" {
		// Nova buries the instance in cell0 with its volumes still
		// reserved; deleting the server frees them.
		c.failServerLocked(s, 500, "No valid host was found. There are not enough hosts available.",
			"Traceback (most recent call last):\n  File \"nova/conductor/manager.py\", in schedule_and_build_instances\nnova.exception.NoValidHost: No valid host was found. There are not enough hosts available.\n")
		c.releaseBootPortLocked(s, spec)
		c.Mu.Unlock()
		return
	}
	s.Hypervisor = hv
	if s.AZ == "" {
		for i := 0; i < c.cfg.Hypervisors; i++ {
			if c.hypervisorName(i) == hv {
				s.AZ = c.hypervisorZone(i)
			}
		}
	}
	s.TaskState = "networking"
	c.Save()
	// networking: bind or create the port.
	var addr netip.Addr
	switch {
	case spec.portID != "":
		p, ok := c.St.Ports[spec.portID]
		if !ok {
			c.failBuildLocked(s, fmt.Sprintf("Build of instance %s aborted: Port %s could not be found.", id, spec.portID), "")
			c.Mu.Unlock()
			return
		}
		p.DeviceID, p.DeviceOwner = s.ID, "compute:"+s.AZ
		s.PortIDs = []string{p.ID}
		addr, _ = netip.ParseAddr(p.FixedIPs[0].IPAddress)
	case spec.netMode == "none":
	default:
		var req *[]state.FixedIP
		if spec.fixedIP != "" {
			req = &[]state.FixedIP{{IPAddress: spec.fixedIP}}
		}
		ips, e := c.neutron.AllocateFixedIPs(req)
		if e != nil {
			c.failBuildLocked(s, "Build of instance "+id+" aborted: Failed to allocate the network(s), not rescheduling.", e.Message)
			c.Mu.Unlock()
			return
		}
		now := time.Now()
		p := &state.Port{ID: core.NewUUID(), NetworkID: c.St.NetworkID, FixedIPs: ips, MAC: neutron.NewMAC(),
			SecurityGroups: spec.sgIDs, PortSecurity: true, AdminStateUp: true, DeviceID: s.ID,
			DeviceOwner: "compute:" + s.AZ, ProjectID: s.ProjectID, Revision: 1, CreatedAt: now,
			UpdatedAt: now, CreatedByNova: true}
		c.St.Ports[p.ID] = p
		s.PortIDs = []string{p.ID}
		addr, _ = netip.ParseAddr(ips[0].IPAddress)
	}
	var keys []string
	if k, ok := c.St.Keypairs[s.KeyName]; ok {
		keys = append(keys, strings.TrimSpace(k.PublicKey))
	}
	hostname := s.Hostname
	boot := c.guestBootLocked(s)
	c.Save()
	c.neutron.RefreshFirewallsLocked() // others' remote-group sets now include this port
	c.Mu.Unlock()

	if len(spec.volumes) > 0 && (!c.SleepStep(ctx) || !c.mapBlockDevices(id)) {
		c.undoNetworkIfGone(id)
		return
	}
	if !c.SleepStep(ctx) || !c.setTask(id, "spawning") {
		c.undoNetworkIfGone(id)
		return
	}
	// The port keeps holding its address in the pool while the host uses
	// it, so no other allocation can take it in between.
	opts, err := c.hostOptions(ctx, boot, host.Options{Name: hostname, Addr: addr, AddrHeld: addr.IsValid(), AuthorizedKeys: keys})
	var h *host.Host
	if err == nil {
		h, err = c.Store.Network.StartHost(ctx, opts)
	}
	if err != nil {
		c.Log.Error("spawn the guest", "server", id, "err", err) // the fault's details, for the operator
		c.abortBuild(ctx, id, nil, "Build of instance "+id+" aborted: Failed to spawn the guest.", err.Error())
		c.undoNetworkIfGone(id)
		return
	}
	c.Mu.Lock()
	s, ok = c.St.Servers[id]
	if !ok || s.Deleting {
		c.Mu.Unlock()
		_ = h.Close()
		c.undoNetworkIfGone(id)
		return
	}
	c.Probing[id]++
	probing := true
	defer func() {
		if probing {
			c.endProbe(id)
		}
	}()
	if err := h.ApplyFirewall(ctx, c.neutron.RenderFirewall(s)); err != nil {
		c.Mu.Unlock()
		_ = h.Close()
		c.abortBuild(ctx, id, nil, "Build of instance "+id+" aborted: Failed to plug the security groups.", err.Error())
		return
	}
	c.Hosts[id] = h
	c.Mu.Unlock()

	// The volumes' disks join the running host, before the guest checks,
	// so they are there when the server turns ACTIVE.
	if err := c.attachBootVolumes(ctx, id, spec.volumes); err != nil {
		c.Log.Error("attach the boot volumes", "server", id, "err", err)
		c.abortBuild(ctx, id, h, "Build of instance "+id+" aborted: Failure prepping block device.", err.Error())
		return
	}

	// ACTIVE only when sshd answers with the host key the console will show
	// and would let root in with the keypair's key.
	if err := verifyGuest(ctx, h, keys); err != nil {
		c.abortBuild(ctx, id, h, "Build of instance "+id+" aborted: the guest did not come up.", err.Error())
		return
	}
	probing = false
	c.endProbe(id) // the security groups alone decide from here
	if !c.SleepStep(ctx) {
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok = c.St.Servers[id]
	if !ok || s.Deleting {
		return
	}
	if !h.Systemd() {
		s.Console = append(s.Console, consoleBoot(s, h, keys, !c.consoleHidesFingerprints(s.Name))...)
	}
	s.VMState, s.TaskState, s.PowerState = "active", "", 1
	s.LaunchedAt = time.Now()
	s.UpdatedAt = time.Now()
	c.Save()
}

// verifyGuest checks, over SSH from the machine, that sshd presents the
// host's key and would accept each keypair key for root (the public-key
// query of the SSH protocol: no private key needed).
func verifyGuest(ctx context.Context, h *host.Host, keys []string) error {
	if !h.Running() {
		return fmt.Errorf("host %s is not running", h.Name())
	}
	for _, k := range keys {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := ProbeSSHKey(pctx, h.SSHAddr(), h.HostKey(), k)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// endProbe closes the boot-time opening for the machine's SSH probe.
func (c *Service) endProbe(id string) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.Probing[id]--; c.Probing[id] <= 0 {
		delete(c.Probing, id)
	}
	if h, s := c.Hosts[id], c.St.Servers[id]; h != nil && s != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.ApplyFirewall(ctx, c.neutron.RenderFirewall(s)); err != nil {
			c.Log.Error("apply firewall", "server", id, "err", err)
		}
	}
}

// consoleBoot synthesises one boot's serial console of an init-less host
// (systemd hosts have their real one) in cloud-init's format
// (Debian images: syslog-prefixed fingerprint block, bare keys block).
// Without emitKeys the key blocks are left out, as cloud-init does with
// ssh.emit_keys_to_console: false.
func consoleBoot(s *state.Server, h *host.Host, keys []string, emitKeys bool) []string {
	now := time.Now().UTC()
	stamp := now.Format("Jan _2 15:04:05")
	hk := h.HostKey()
	keyType := strings.ToUpper(strings.TrimPrefix(hk.Type(), "ssh-"))
	bits := 256
	if hk.Type() == ssh.KeyAlgoRSA {
		bits = 3072
	}
	lines := []string{
		"[    0.000000] Linux version 6.1.0-localcloud (localcloud) #1 SMP PREEMPT_DYNAMIC Debian 6.1",
		"[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro console=ttyS0",
		fmt.Sprintf("[    1.024000] cloud-init[101]: Cloud-init v. 22.4.2 running 'init' at %s. Up 1.02 seconds.", now.Format(time.RFC1123Z)),
		"[    1.030000] cloud-init[101]: ci-info: ++++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++++",
		fmt.Sprintf("[    1.030000] cloud-init[101]: ci-info: | eth0 | True | %s | 255.255.255.0 | global | . |", h.Addr()),
		"[    1.050000] cloud-init[101]: Generating public/private ed25519 key pair.",
		"[    1.060000] cloud-init[101]: The key fingerprint is:",
		fmt.Sprintf("[    1.060000] cloud-init[101]: %s root@%s", ssh.FingerprintSHA256(hk), h.Name()),
	}
	for _, k := range keys {
		if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err == nil {
			lines = append(lines,
				"ci-info: +++++++++++++Authorized keys from /root/.ssh/authorized_keys for user root+++++++++++++",
				fmt.Sprintf("ci-info: | %s | %s | - | %s |", pub.Type(), strings.TrimPrefix(ssh.FingerprintSHA256(pub), "SHA256:"), s.KeyName))
		}
	}
	pfx := fmt.Sprintf("<14>%s cloud-init: ", stamp)
	if emitKeys {
		lines = append(lines,
			pfx+"#############################################################",
			pfx+"-----BEGIN SSH HOST KEY FINGERPRINTS-----",
			fmt.Sprintf("%s%d %s root@%s (%s)", pfx, bits, ssh.FingerprintSHA256(hk), h.Name(), keyType),
			pfx+"-----END SSH HOST KEY FINGERPRINTS-----",
			pfx+"#############################################################",
			"-----BEGIN SSH HOST KEY KEYS-----",
			strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk)))+" root@"+h.Name(),
			"-----END SSH HOST KEY KEYS-----",
		)
	}
	lines = append(lines,
		fmt.Sprintf("[    2.048000] cloud-init[215]: Cloud-init v. 22.4.2 finished at %s. Datasource DataSourceOpenStackLocal [net,ver=2].  Up 2.05 seconds", now.Format(time.RFC1123Z)),
		"",
		fmt.Sprintf("Debian GNU/Linux 12 %s ttyS0", h.Name()),
		"",
		fmt.Sprintf("%s login: ", h.Name()),
	)
	return lines
}

// releaseBootPortLocked unbinds a port a failed create had reserved.
func (c *Service) releaseBootPortLocked(s *state.Server, spec bootSpec) {
	if spec.portID == "" {
		return
	}
	if p, ok := c.St.Ports[spec.portID]; ok && p.DeviceID == s.ID && !slices.Contains(s.PortIDs, p.ID) {
		p.DeviceID, p.DeviceOwner = "", ""
	}
}

// undoNetworkIfGone finishes a teardown that raced with a boot.
func (c *Service) undoNetworkIfGone(id string) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if _, ok := c.St.Servers[id]; ok {
		return
	}
	for pid, p := range c.St.Ports {
		if p.DeviceID == id {
			if p.CreatedByNova {
				c.neutron.DisassociatePortLocked(pid)
				delete(c.St.Ports, pid)
				c.neutron.ReleaseFixedIPs(p)
			} else {
				p.DeviceID, p.DeviceOwner = "", ""
			}
		}
	}
	c.Save()
}

// teardownServer deletes a server: detach volumes, remove the host, delete
// the ports nova made and unbind the others.
func (c *Service) teardownServer(ctx context.Context, id string) {
	c.SleepStep(ctx)
	c.Mu.Lock()
	s, ok := c.St.Servers[id]
	if !ok {
		c.Mu.Unlock()
		return
	}
	h := c.Hosts[id]
	delete(c.Hosts, id)
	vols := slices.Clone(s.Volumes)
	c.Mu.Unlock()

	for _, v := range vols {
		if h != nil {
			_ = h.DetachDisk(context.WithoutCancel(ctx), serialOf(v.VolumeID))
		}
	}
	if h != nil {
		if err := h.Close(); err != nil {
			c.Log.Error("remove host", "server", id, "err", err)
		}
	}

	c.Mu.Lock()
	defer c.Mu.Unlock()
	for _, v := range vols {
		c.releaseVolumeLocked(id, v.VolumeID)
	}
	for pid, p := range c.St.Ports {
		if p.DeviceID != id {
			continue
		}
		if p.CreatedByNova {
			// The port owned the address (the host only borrowed it).
			c.neutron.DisassociatePortLocked(pid)
			delete(c.St.Ports, pid)
			c.neutron.ReleaseFixedIPs(p)
			continue
		}
		// The user's port keeps its address.
		p.DeviceID, p.DeviceOwner = "", ""
		p.UpdatedAt = time.Now()
	}
	if g, ok := c.St.ServerGroups[s.GroupID]; ok {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
	}
	delete(c.St.Servers, id)
	c.Save()
	c.neutron.RefreshFirewallsLocked()
}

func serialOf(volumeID string) string {
	if len(volumeID) > 20 {
		return volumeID[:20]
	}
	return volumeID
}

// ---- actions ----

func (c *Service) serverAction(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var body map[string]json.RawMessage
	if err := core.ReadJSON(r, &body); err != nil {
		core.WriteError(w, core.Compute, core.Errf(400, "%s", err))
		return
	}
	if len(body) != 1 {
		core.WriteError(w, core.Compute, core.Errf(400, "Malformed request body: exactly one action is expected"))
		return
	}
	var name string
	var raw json.RawMessage
	for k, v := range body {
		name, raw = k, v
	}
	if name == "rebuild" { // answers with the server, unlike the others (rebuild.go)
		c.rebuildServer(w, r, raw, mv)
		return
	}
	id := r.PathValue("id")
	c.Mu.Lock()
	s, ok := c.lookupServer(id)
	if !ok {
		c.Mu.Unlock()
		c.notFoundServer(w, id)
		return
	}
	if name == "os-getConsoleOutput" {
		defer c.Mu.Unlock()
		c.consoleOutput(w, s, raw)
		return
	}
	if s.Deleting {
		c.Mu.Unlock()
		core.WriteError(w, core.Compute, invalidState(s, name))
		return
	}
	e, code, work := c.planAction(s, name, raw)
	c.Mu.Unlock()
	if e != nil {
		core.WriteError(w, core.Compute, e)
		return
	}
	if work != nil && !c.Go(work) {
		core.WriteError(w, core.Compute, core.Errf(503, "The local cloud is shutting down."))
		return
	}
	w.WriteHeader(code)
}

// planAction checks an action against the server's state, sets its task
// state and returns the asynchronous work. Callers hold c.mu.
func (c *Service) planAction(s *state.Server, name string, raw json.RawMessage) (*core.Error, int, func(context.Context)) {
	id := s.ID
	idle := s.TaskState == ""
	switch name {
	case "reboot":
		var req struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &req); err != nil || (req.Type != "SOFT" && req.Type != "HARD") {
			return core.Errf(400, "Invalid input for field/attribute type. Value: %s. '%s' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", req.Type, req.Type), 0, nil
		}
		if req.Type == "SOFT" {
			if s.VMState != "active" || !idle {
				return invalidState(s, "reboot"), 0, nil
			}
			s.TaskState = "reboot_started"
		} else {
			if !slices.Contains([]string{"active", "stopped", "error"}, s.VMState) ||
				!(idle || strings.HasPrefix(s.TaskState, "reboot")) {
				return invalidState(s, "reboot"), 0, nil
			}
			s.TaskState = "reboot_started_hard"
		}
		c.Save()
		hard := req.Type == "HARD"
		return nil, 202, func(ctx context.Context) { c.restartServer(ctx, id, hard, "active", "") }
	case "os-stop":
		if !slices.Contains([]string{"active", "error"}, s.VMState) || !idle {
			return invalidState(s, "stop"), 0, nil
		}
		s.TaskState = "powering-off"
		c.Save()
		return nil, 202, func(ctx context.Context) { c.stopServer(ctx, id) }
	case "os-start":
		if s.VMState != "stopped" || !idle {
			return invalidState(s, "start"), 0, nil
		}
		s.TaskState = "powering-on"
		c.Save()
		return nil, 202, func(ctx context.Context) { c.restartServer(ctx, id, false, "active", "") }
	case "resize":
		var req struct {
			FlavorRef  flexString `json:"flavorRef"`
			DiskConfig string     `json:"OS-DCF:diskConfig"`
		}
		if err := json.Unmarshal(raw, &req); err != nil || req.FlavorRef == "" {
			return core.Errf(400, "Invalid input for field/attribute resize. 'flavorRef' is a required property"), 0, nil
		}
		f, ok := findFlavor(string(req.FlavorRef))
		if !ok {
			return core.Errf(400, "Unable to find flavor %s", req.FlavorRef), 0, nil
		}
		if !slices.Contains([]string{"active", "stopped"}, s.VMState) || !idle {
			return invalidState(s, "resize"), 0, nil
		}
		if f.ID == s.FlavorID {
			return core.Errf(400, "When resizing, instances must change flavor!"), 0, nil
		}
		s.TaskState = "resize_prep"
		c.Save()
		prev := s.VMState
		if msg, fail := c.failResize[id]; fail {
			delete(c.failResize, id)
			return nil, 202, func(ctx context.Context) { c.failResizeInPrep(ctx, id, msg) }
		}
		return nil, 202, func(ctx context.Context) { c.resizeServer(ctx, id, f.ID, prev) }
	case "confirmResize":
		if s.VMState != "resized" || !idle {
			return invalidState(s, "confirmResize"), 0, nil
		}
		s.OldFlavorID = ""
		s.VMState = "active"
		if s.PowerState != 1 {
			s.VMState = "stopped"
		}
		s.UpdatedAt = time.Now()
		c.Save()
		return nil, 204, nil
	case "revertResize":
		if s.VMState != "resized" || !idle {
			return invalidState(s, "revertResize"), 0, nil
		}
		s.TaskState = "resize_reverting"
		c.Save()
		return nil, 202, func(ctx context.Context) { c.revertResize(ctx, id) }
	}
	return core.Errf(400, "There is no such action: %s", name), 0, nil
}

func (c *Service) hostOf(id string) *host.Host {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	return c.Hosts[id]
}

// FinishAction sets the end state of an action; callers must not hold c.mu.
func (c *Service) FinishAction(id, vmState string, power int, err error) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting {
		return
	}
	if err != nil {
		c.failServerLocked(s, 500, "The guest failed to change state.", err.Error())
		return
	}
	s.VMState, s.TaskState, s.PowerState = vmState, "", power
	s.UpdatedAt = time.Now()
	c.Save()
}

// restartServer: SOFT reboot = clean shutdown then boot; HARD = kill then boot;
// also os-start (the host is already off).
func (c *Service) restartServer(ctx context.Context, id string, hard bool, endState, _ string) {
	h := c.hostOf(id)
	if h == nil {
		c.FinishAction(id, "error", 0, fmt.Errorf("server %s has no host", id))
		return
	}
	if !c.SleepStep(ctx) {
		return
	}
	var err error
	if h.Running() {
		if hard {
			err = h.PowerOff(ctx)
		} else {
			err = h.Shutdown(ctx)
		}
	}
	if err == nil {
		err = c.PowerOnHost(ctx, id, h)
	}
	c.FinishAction(id, endState, 1, err)
}

// PowerOnHost boots a host, re-applies its firewall and appends the boot's
// console output.
func (c *Service) PowerOnHost(ctx context.Context, id string, h *host.Host) error {
	c.Mu.Lock()
	c.Probing[id]++
	if s, ok := c.St.Servers[id]; ok {
		if err := h.ApplyFirewall(ctx, c.neutron.RenderFirewall(s)); err != nil {
			c.Mu.Unlock()
			c.endProbe(id)
			return err
		}
	}
	c.Mu.Unlock()
	err := h.PowerOn(ctx)
	c.endProbe(id) // re-applies the ruleset without the opening
	if err != nil {
		return err
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.St.Servers[id]
	if !ok {
		return nil
	}
	if h.Systemd() { // the guest writes its own console
		return nil
	}
	var keys []string
	if k, ok := c.St.Keypairs[s.KeyName]; ok {
		keys = append(keys, k.PublicKey)
	}
	s.Console = append(s.Console, consoleBoot(s, h, keys, !c.consoleHidesFingerprints(s.Name))...)
	if len(s.Console) > 2000 {
		s.Console = s.Console[len(s.Console)-2000:]
	}
	return nil
}

func (c *Service) stopServer(ctx context.Context, id string) {
	h := c.hostOf(id)
	if !c.SleepStep(ctx) {
		return
	}
	var err error
	if h != nil {
		err = h.Shutdown(ctx)
	}
	c.FinishAction(id, "stopped", 4, err)
}

// resizeServer: the host stops and (if it was running) boots again, like a
// VM moved to a new flavor; then VERIFY_RESIZE.
func (c *Service) resizeServer(ctx context.Context, id, flavorID, prev string) {
	h := c.hostOf(id)
	for _, task := range []string{"resize_migrating", "resize_migrated", "resize_finish"} {
		if !c.SleepStep(ctx) || !c.setTask(id, task) {
			return
		}
	}
	var err error
	if h != nil && h.Running() {
		err = h.Shutdown(ctx)
	}
	power := 4
	if err == nil && prev == "active" && h != nil {
		err = c.PowerOnHost(ctx, id, h)
		power = 1
	}
	c.Mu.Lock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting && err == nil {
		s.OldFlavorID, s.FlavorID = s.FlavorID, flavorID
	}
	c.Mu.Unlock()
	c.FinishAction(id, "resized", power, err)
}

// failResizeInPrep ends a resize the scheduler could not place: the
// server was never touched, so it keeps its flavor, state and power; the
// task state clears and the fault is recorded.
func (c *Service) failResizeInPrep(ctx context.Context, id, msg string) {
	if !c.SleepStep(ctx) {
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting {
		return
	}
	s.TaskState = ""
	s.Fault = &state.ServerFault{Code: 500, Message: msg, Details: "resize: prep_resize failed", Created: time.Now()}
	s.UpdatedAt = time.Now()
	c.Save()
}

func (c *Service) revertResize(ctx context.Context, id string) {
	h := c.hostOf(id)
	if !c.SleepStep(ctx) {
		return
	}
	c.Mu.Lock()
	s, ok := c.St.Servers[id]
	wasOn := ok && s.PowerState == 1
	c.Mu.Unlock()
	var err error
	if h != nil && h.Running() {
		err = h.Shutdown(ctx)
	}
	power, state := 4, "stopped"
	if err == nil && wasOn && h != nil {
		err = c.PowerOnHost(ctx, id, h)
		power, state = 1, "active"
	}
	c.Mu.Lock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting && err == nil && s.OldFlavorID != "" {
		s.FlavorID, s.OldFlavorID = s.OldFlavorID, ""
	}
	c.Mu.Unlock()
	c.FinishAction(id, state, power, err)
}

// consoleOutput answers os-getConsoleOutput; callers hold c.mu.
func (c *Service) consoleOutput(w http.ResponseWriter, s *state.Server, raw json.RawMessage) {
	var req struct {
		Length any `json:"length"`
	}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req); err != nil {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute os-getConsoleOutput: %v", err))
			return
		}
	}
	n := -1
	switch v := req.Length.(type) {
	case nil:
	case float64:
		n = int(v)
	case string:
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute length. Value: %s. '%s' does not match '^-?[0-9]+$'", v, v))
			return
		}
	}
	if n < -1 {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute length. Value: %d. %d is less than the minimum of -1", n, n))
		return
	}
	// nova: InstanceNotReady, answered 409 by the console-output API.
	if s.Hypervisor == "" || (s.VMState == "building" && len(s.Console) == 0 && c.Hosts[s.ID] == nil) {
		core.WriteError(w, core.Compute, core.Errf(409, "Instance %s is not ready", s.ID))
		return
	}
	lines := s.Console
	if h := c.Hosts[s.ID]; h != nil && h.Systemd() {
		lines = serialConsole(h)
	}
	if c.consoleHidesFingerprints(s.Name) {
		lines = withoutFingerprintBlocks(lines)
	}
	if n >= 0 && n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if len(lines) > 0 {
		out += "\n"
	}
	core.WriteJSON(w, 200, map[string]any{"output": out})
}

// powerSyncInterval is how often the cloud compares hosts with server states.
const powerSyncInterval = time.Second

// SyncPowerStates does what nova-compute's periodic power-state sync does:
// a server whose host stopped behind the API's back (its sshd died, or a
// test powered it off through package host) becomes SHUTOFF.
func (c *Service) SyncPowerStates(ctx context.Context) {
	t := time.NewTicker(powerSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.Mu.Lock()
		hosts := make(map[string]*host.Host, len(c.Hosts))
		for id, h := range c.Hosts {
			if s, ok := c.St.Servers[id]; ok && s.VMState == "active" && s.TaskState == "" && !s.Deleting {
				hosts[id] = h
			}
		}
		c.Mu.Unlock()
		for id, h := range hosts {
			if h.Running() { // may wait for a host's lock: not under c.Mu
				continue
			}
			c.Mu.Lock()
			if s, ok := c.St.Servers[id]; ok && s.VMState == "active" && s.TaskState == "" && !s.Deleting && c.Hosts[id] == h {
				s.VMState, s.PowerState = "stopped", 4
				s.UpdatedAt = time.Now()
				c.Save()
				c.Log.Info("power sync: host stopped, server is SHUTOFF", "server", id)
			}
			c.Mu.Unlock()
		}
	}
}
