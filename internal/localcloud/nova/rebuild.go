package nova

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// A rebuild re-images a server's root disk and boots it again, as Nova
// does (compute API rebuild, then the compute manager's default rebuild):
//
//	POST /servers/{id}/action {"rebuild": {"imageRef": ..., ...}}
//	  -> 202 + Location, the server (status REBUILD) and adminPass
//	task_state rebuilding: clean shutdown of the guest
//	task_state rebuild_block_device_mapping: a fresh root disk from the
//	  image, a new SSH host key; volumes stay attached at their devices
//	task_state rebuild_spawning: boot, sshd checked with the new key
//	-> ACTIVE (a server that was SHUTOFF goes through powering-off back to
//	   SHUTOFF, one in ERROR ends ACTIVE)
//
// A failed rebuild (the admin fault fail-rebuild, or preserve_ephemeral,
// which Nova's libvirt driver cannot do) puts the server in ERROR with a
// fault, its root disk already re-imaged and the host off, as Nova's
// _error_out_instance_on_exception does; the image stays the new one. A
// rebuild (allowed from ERROR) or a HARD reboot brings it back.

// Nova's rebuild task states (nova/compute/task_states.py).
const (
	rebuilding                = "rebuilding"
	rebuildBlockDeviceMapping = "rebuild_block_device_mapping"
	rebuildSpawning           = "rebuild_spawning"
)

// rebuildFields are the request's properties by the microversion that
// brought them (nova's rebuild schemas); personality went away in 2.57.
var rebuildFields = []struct {
	name       string
	major, min int
}{
	{"imageRef", 2, 1}, {"name", 2, 1}, {"adminPass", 2, 1}, {"metadata", 2, 1},
	{"preserve_ephemeral", 2, 1}, {"OS-DCF:diskConfig", 2, 1}, {"accessIPv4", 2, 1},
	{"accessIPv6", 2, 1}, {"personality", 2, 1}, {"description", 2, 19}, {"key_name", 2, 54},
	{"user_data", 2, 57}, {"trusted_image_certificates", 2, 63},
}

func rebuildFieldAllowed(name string, mv core.Microversion) bool {
	if name == "personality" && mv.AtLeast(2, 57) {
		return false
	}
	for _, f := range rebuildFields {
		if f.name == name {
			return mv.AtLeast(f.major, f.min)
		}
	}
	return false
}

// uuidRE is the uuid format nova's schema checks imageRef against.
var uuidRE = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$`)

// rebuildRequest is a checked rebuild body; nil pointers were not given.
type rebuildRequest struct {
	image             glance.Image
	adminPass         string
	name              *string
	description       **string
	metadata          map[string]string
	keyName           *string // "" removes the keypair
	userData          *string
	preserveEphemeral bool
}

// parseRebuild checks a rebuild body as nova's schema for mv does; the
// keypair and the server's state are checked later, under c.Mu.
func parseRebuild(raw json.RawMessage, mv core.Microversion) (*rebuildRequest, *core.Error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, core.Errf(400, "Invalid input for field/attribute rebuild. Value: %s. %s is not of type 'object'", raw, raw)
	}
	for k := range fields {
		if !rebuildFieldAllowed(k, mv) {
			return nil, core.Errf(400, "Invalid input for field/attribute rebuild. Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	bad := func(field, format string, args ...any) *core.Error {
		return core.Errf(400, "Invalid input for field/attribute %s. %s", field, fmt.Sprintf(format, args...))
	}
	req := &rebuildRequest{}
	var ref string
	if err := json.Unmarshal(fields["imageRef"], &ref); err != nil || fields["imageRef"] == nil {
		return nil, core.Errf(400, "Invalid input for field/attribute rebuild. 'imageRef' is a required property")
	}
	if !uuidRE.MatchString(ref) {
		return nil, bad("imageRef", "Value: %s. '%s' is not a 'uuid'", ref, ref)
	}
	if len(ref) == 32 { // the hyphen-less form nova's uuid check accepts
		ref = ref[:8] + "-" + ref[8:12] + "-" + ref[12:16] + "-" + ref[16:20] + "-" + ref[20:]
	}
	img, ok := glance.Find(strings.ToLower(ref))
	if !ok {
		return nil, core.Errf(400, "Cannot find image for rebuild")
	}
	req.image = img
	if v, ok := fields["adminPass"]; ok {
		if err := json.Unmarshal(v, &req.adminPass); err != nil {
			return nil, bad("adminPass", "Value: %s. %s is not of type 'string'", v, v)
		}
	} else {
		req.adminPass = core.RandomSecret(12) // nova's generate_password, password_length 12
	}
	if v, ok := fields["name"]; ok {
		var n string
		if err := json.Unmarshal(v, &n); err != nil || strings.TrimSpace(n) == "" || len(n) > 255 || n != strings.TrimSpace(n) {
			return nil, bad("name", "Value: %s. %s does not match '^(?! )[\\S ]*(?<! )$'", v, v)
		}
		req.name = &n
	}
	if v, ok := fields["description"]; ok {
		var d *string
		if err := json.Unmarshal(v, &d); err != nil || (d != nil && len(*d) > 255) {
			return nil, bad("description", "Value: %s. %s is not valid under any of the given schemas", v, v)
		}
		req.description = &d
	}
	if v, ok := fields["metadata"]; ok {
		if err := json.Unmarshal(v, &req.metadata); err != nil || req.metadata == nil {
			return nil, bad("metadata", "Value: %s. %s is not of type 'object'", v, v)
		}
		for k, val := range req.metadata {
			if k == "" || len(k) > 255 || len(val) > 255 {
				return nil, bad("metadata", "Metadata keys and values must be 1 to 255 characters")
			}
		}
		if len(req.metadata) > 128 {
			return nil, core.Errf(403, "Quota exceeded for metadata_items: Requested %d, but already used 0 of 128 metadata_items", len(req.metadata))
		}
	}
	if v, ok := fields["preserve_ephemeral"]; ok {
		if err := json.Unmarshal(v, &req.preserveEphemeral); err != nil {
			return nil, bad("preserve_ephemeral", "Value: %s. %s is not of type 'boolean'", v, v)
		}
	}
	if v, ok := fields["OS-DCF:diskConfig"]; ok {
		var dc string
		if err := json.Unmarshal(v, &dc); err != nil || (dc != "AUTO" && dc != "MANUAL") {
			return nil, bad("OS-DCF:diskConfig", "Value: %s. %s is not one of ['AUTO', 'MANUAL']", v, v)
		}
	}
	for _, f := range []string{"accessIPv4", "accessIPv6"} {
		if v, ok := fields[f]; ok {
			var a string
			var ip netip.Addr
			err := json.Unmarshal(v, &a)
			if err == nil {
				ip, err = netip.ParseAddr(a)
			}
			if err != nil || (f == "accessIPv4") != ip.Is4() {
				return nil, bad(f, "Value: %s. %s is not a '%s'", v, v, map[string]string{"accessIPv4": "ipv4", "accessIPv6": "ipv6"}[f])
			}
		}
	}
	if v, ok := fields["personality"]; ok {
		// Accepted and not written into the guest, as Nova's libvirt driver
		// with file injection off (its default since Mitaka).
		var files []struct {
			Path     string `json:"path"`
			Contents string `json:"contents"`
		}
		if err := json.Unmarshal(v, &files); err != nil {
			return nil, bad("personality", "Value: %s. %s is not of type 'array'", v, v)
		}
	}
	if v, ok := fields["key_name"]; ok {
		var k *string
		if err := json.Unmarshal(v, &k); err != nil {
			return nil, bad("key_name", "Value: %s. %s is not of type 'string', 'null'", v, v)
		}
		name := ""
		if k != nil {
			name = *k
		}
		req.keyName = &name
	}
	if v, ok := fields["user_data"]; ok {
		var u *string
		if err := json.Unmarshal(v, &u); err != nil {
			return nil, bad("user_data", "Value: %s. %s is not of type 'string', 'null'", v, v)
		}
		data := ""
		if u != nil {
			if _, err := base64.StdEncoding.DecodeString(*u); err != nil || len(*u) > 65535 {
				return nil, bad("user_data", "Value: %s. '%s' is not a 'base64'", *u, *u)
			}
			data = *u
		}
		req.userData = &data
	}
	if v, ok := fields["trusted_image_certificates"]; ok && string(v) != "null" {
		var certs []string
		if err := json.Unmarshal(v, &certs); err != nil {
			return nil, bad("trusted_image_certificates", "Value: %s. %s is not of type 'array', 'null'", v, v)
		}
		if len(certs) > 0 {
			return nil, core.Errf(400, "Image certificate validation failed for image %s: image signature verification is not enabled", req.image.ID)
		}
	}
	return req, nil
}

// rebuildServer answers the rebuild action.
func (c *Service) rebuildServer(w http.ResponseWriter, r *http.Request, raw json.RawMessage, mv core.Microversion) {
	req, e := parseRebuild(raw, mv)
	if e != nil {
		core.WriteError(w, core.Compute, e)
		return
	}
	id := r.PathValue("id")
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.lookupServer(id)
	if !ok {
		c.notFoundServer(w, id)
		return
	}
	if !slices.Contains([]string{"active", "stopped", "error"}, s.VMState) || s.TaskState != "" || s.Deleting {
		core.WriteError(w, core.Compute, invalidState(s, "rebuild"))
		return
	}
	if req.keyName != nil && *req.keyName != "" {
		if _, ok := c.St.Keypairs[*req.keyName]; !ok {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid key_name provided."))
			return
		}
	}
	for _, sv := range s.Volumes {
		if v, ok := c.St.Volumes[sv.VolumeID]; ok && v.Status != "in-use" {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid volume: volume '%s' status must be 'in-use'. Currently in '%s' status", v.ID, v.Status))
			return
		}
	}

	prev := s.VMState
	s.TaskState = rebuilding
	s.ImageID = req.image.ID
	if req.name != nil {
		s.Name = *req.name
	}
	if req.description != nil {
		s.Description = *req.description
	}
	if req.metadata != nil {
		s.Metadata = req.metadata
	}
	if req.keyName != nil {
		s.KeyName = *req.keyName
	}
	if req.userData != nil {
		s.UserData = *req.userData
	}
	s.UpdatedAt = time.Now()
	c.Save()
	failure, fail := c.failRebuild[id]
	delete(c.failRebuild, id)
	if req.preserveEphemeral {
		failure, fail = "The current driver does not support preserving ephemeral partitions.", true
	}
	work := func(ctx context.Context) { c.rebuildHost(ctx, id, prev, failure, fail) }
	if !c.Go(work) {
		core.WriteError(w, core.Compute, core.Errf(503, "The local cloud is shutting down."))
		return
	}
	body := c.rebuildBody(s, mv)
	body["adminPass"] = req.adminPass // CONF.api.enable_instance_password (default on)
	w.Header().Set("Location", c.baseURL+"/compute/v2.1/servers/"+s.ID)
	core.WriteJSON(w, 202, map[string]any{"server": body})
}

// rebuildBody is the server as the rebuild answer shows it: below 2.75
// nova leaves out the extended attributes (availability zone, config
// drive, usage times, security groups, OS-EXT-*, volumes, the addresses'
// MAC and type) and adds key_name from 2.54 and user_data from 2.57; from
// 2.75 it is the GET body with user_data in place of
// OS-EXT-SRV-ATTR:user_data. Callers hold c.Mu.
func (c *Service) rebuildBody(s *state.Server, mv core.Microversion) map[string]any {
	b := c.serverBody(s, mv)
	delete(b, "OS-EXT-SRV-ATTR:user_data")
	if mv.AtLeast(2, 57) {
		b["user_data"] = core.NilIfEmpty(s.UserData)
	}
	if mv.AtLeast(2, 75) {
		return b
	}
	for k := range b {
		if strings.HasPrefix(k, "OS-EXT-") || strings.HasPrefix(k, "OS-SRV-USG:") || strings.HasPrefix(k, "os-extended-volumes:") {
			delete(b, k)
		}
	}
	for _, k := range []string{"config_drive", "security_groups", "host_status"} {
		delete(b, k)
	}
	if !mv.AtLeast(2, 54) {
		delete(b, "key_name")
	}
	if addrs, ok := b["addresses"].(map[string]any); ok {
		for _, list := range addrs {
			for _, a := range list.([]any) {
				delete(a.(map[string]any), "OS-EXT-IPS-MAC:mac_addr")
				delete(a.(map[string]any), "OS-EXT-IPS:type")
			}
		}
	}
	return b
}

// rebuildHost is the compute side of a rebuild: clean shutdown, a fresh
// root disk with a new host key (the console starts over, as libvirt's
// console log goes with the destroyed domain), then a boot checked like a
// create's. prev is the vm_state before the rebuild; fail makes it fail
// with failure once the root disk is re-imaged.
func (c *Service) rebuildHost(ctx context.Context, id, prev, failure string, fail bool) {
	h := c.hostOf(id)
	if !c.SleepStep(ctx) {
		return
	}
	if h == nil {
		c.failRebuildWith(id, "No valid host was found. There are not enough hosts available.", "rebuild: the server has no host")
		return
	}
	if h.Running() {
		if err := h.Shutdown(ctx); err != nil {
			c.failRebuildWith(id, "The guest failed to power off for the rebuild.", err.Error())
			return
		}
	}
	if !c.setTask(id, rebuildBlockDeviceMapping) {
		return
	}
	c.Mu.Lock()
	opts, ok := c.rebuildOptionsLocked(id)
	if ok {
		c.St.Servers[id].Console = nil
	}
	c.Mu.Unlock()
	if !ok {
		return
	}
	if err := h.Rebuild(ctx, opts); err != nil {
		c.failRebuildWith(id, "Rebuild of instance "+id+" failed: could not re-image the root disk.", err.Error())
		return
	}
	if !c.SleepStep(ctx) || !c.setTask(id, rebuildSpawning) {
		return
	}
	if fail {
		c.failRebuildWith(id, failure, "rebuild: spawn failed (injected by POST /_admin/servers/"+id+"/fail-rebuild)")
		return
	}
	// The machine may reach sshd until the guest is checked, as at create.
	c.Mu.Lock()
	c.Probing[id]++
	c.Mu.Unlock()
	err := c.PowerOnHost(ctx, id, h)
	if err == nil {
		err = verifyGuest(ctx, h, opts.AuthorizedKeys)
	}
	c.endProbe(id)
	if err != nil {
		c.failRebuildWith(id, "Rebuild of instance "+id+" failed: the guest did not come up.", err.Error())
		return
	}
	c.Mu.Lock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting {
		s.LaunchedAt = time.Now()
	}
	c.Mu.Unlock()
	if prev != "stopped" {
		c.FinishAction(id, "active", 1, nil)
		return
	}
	// Nova brings a stopped server back to its state: ACTIVE, powering-off.
	c.Mu.Lock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting {
		s.VMState, s.TaskState, s.PowerState = "active", "powering-off", 1
		s.UpdatedAt = time.Now()
		c.Save()
	}
	c.Mu.Unlock()
	c.FinishAction(id, "stopped", 4, h.Shutdown(ctx))
}

// rebuildOptionsLocked is what the server's host is rebuilt with: root's
// keys from its (possibly new) keypair. It must match what bootServer
// gives a new host. Callers hold c.Mu; false when the server is gone.
func (c *Service) rebuildOptionsLocked(id string) (host.RebuildOptions, bool) {
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting {
		return host.RebuildOptions{}, false
	}
	var keys []string
	if k, ok := c.St.Keypairs[s.KeyName]; ok {
		keys = append(keys, strings.TrimSpace(k.PublicKey))
	}
	return host.RebuildOptions{AuthorizedKeys: keys}, true
}

// failRebuildWith ends a rebuild in ERROR with a fault, as Nova's
// _error_out_instance_on_exception does.
func (c *Service) failRebuildWith(id, msg, details string) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting {
		c.failServerLocked(s, 500, msg, details)
	}
}

// FailNextRebuild makes the next rebuild of server id fail once its root
// disk is re-imaged, as Nova's does when the guest cannot be spawned: the
// server goes to ERROR with the fault (msg, or a default), powered off,
// its volumes still attached and its image the new one. Callers hold Mu.
func (c *Service) FailNextRebuild(id, msg string) bool {
	if _, ok := c.St.Servers[id]; !ok {
		return false
	}
	if msg == "" {
		msg = "Rebuild of instance " + id + " failed: the guest could not be spawned (localcloud admin)."
	}
	if c.failRebuild == nil {
		c.failRebuild = map[string]string{}
	}
	c.failRebuild[id] = msg
	return true
}
