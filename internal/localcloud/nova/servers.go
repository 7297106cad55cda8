package nova

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

func (c *Service) serverRoutes(mux *http.ServeMux) {
	n := c.nova
	p := "/compute/v2.1/servers"
	mux.HandleFunc("POST "+p, n(c.createServer))
	mux.HandleFunc("GET "+p, n(c.listServers))
	mux.HandleFunc("GET "+p+"/detail", n(c.listServers))
	mux.HandleFunc("GET "+p+"/{id}", n(core.VersionedShow(&c.Mu, "server", c.serverOr404, c.serverBody)))
	mux.HandleFunc("PUT "+p+"/{id}", n(c.updateServer))
	mux.HandleFunc("DELETE "+p+"/{id}", n(c.deleteServer))
	mux.HandleFunc("POST "+p+"/{id}/action", n(c.serverAction))
	mux.HandleFunc("GET "+p+"/{id}/ips", n(c.serverIPs))
	mux.HandleFunc("GET "+p+"/{id}/ips/{net}", n(c.serverIPs))
	mux.HandleFunc("GET "+p+"/{id}/metadata", n(c.getMetadata))
	mux.HandleFunc("PUT "+p+"/{id}/metadata", n(c.setMetadata))
	mux.HandleFunc("POST "+p+"/{id}/metadata", n(c.setMetadata))
	mux.HandleFunc("GET "+p+"/{id}/metadata/{key}", n(c.getMetadataItem))
	mux.HandleFunc("PUT "+p+"/{id}/metadata/{key}", n(c.setMetadataItem))
	mux.HandleFunc("DELETE "+p+"/{id}/metadata/{key}", n(c.deleteMetadataItem))
	mux.HandleFunc("GET "+p+"/{id}/os-volume_attachments", n(c.listAttachments))
	mux.HandleFunc("POST "+p+"/{id}/os-volume_attachments", n(c.attachVolume))
	mux.HandleFunc("GET "+p+"/{id}/os-volume_attachments/{vol}", n(c.getAttachment))
	mux.HandleFunc("DELETE "+p+"/{id}/os-volume_attachments/{vol}", n(c.detachVolume))
	mux.HandleFunc("GET "+p+"/{id}/os-interface", n(c.listInterfaces))
}

// StatusOf derives the API status from vm_state and task_state, as nova does.
func StatusOf(s *state.Server) string {
	switch s.VMState {
	case "building":
		return "BUILD"
	case "active", "stopped":
		switch s.TaskState {
		case "rebooting", "reboot_pending", "reboot_started":
			return "REBOOT"
		case "rebooting_hard", "reboot_pending_hard", "reboot_started_hard":
			return "HARD_REBOOT"
		case "resize_prep", "resize_migrating", "resize_migrated", "resize_finish":
			return "RESIZE"
		case rebuilding, rebuildBlockDeviceMapping, rebuildSpawning:
			return "REBUILD"
		}
		if s.VMState == "stopped" {
			return "SHUTOFF"
		}
		return "ACTIVE"
	case "resized":
		if s.TaskState == "resize_reverting" {
			return "REVERT_RESIZE"
		}
		return "VERIFY_RESIZE"
	case "error":
		if strings.HasPrefix(s.TaskState, "reboot") || s.TaskState == "rebooting_hard" {
			return "HARD_REBOOT"
		}
		if slices.Contains([]string{rebuilding, rebuildBlockDeviceMapping, rebuildSpawning}, s.TaskState) {
			return "REBUILD"
		}
		return "ERROR"
	}
	return "UNKNOWN"
}

func (c *Service) notFoundServer(w http.ResponseWriter, id string) {
	core.WriteError(w, core.Compute, core.Errf(404, "Instance %s could not be found.", id))
}

// lookupServer returns a live server record; callers hold c.mu.
func (c *Service) lookupServer(id string) (*state.Server, bool) {
	s, ok := c.St.Servers[id]
	if !ok || s.Deleting && s.TaskState == "deleted" {
		return nil, false
	}
	return s, true
}

// serverBody renders a server; callers hold c.mu.
func (c *Service) serverBody(s *state.Server, mv core.Microversion) map[string]any {
	addresses := map[string]any{}
	var sgNames []any
	seen := map[string]bool{}
	for _, pid := range s.PortIDs {
		p, ok := c.St.Ports[pid]
		if !ok {
			continue
		}
		var list []any
		for _, ip := range p.FixedIPs {
			list = append(list, map[string]any{"OS-EXT-IPS-MAC:mac_addr": p.MAC, "OS-EXT-IPS:type": "fixed",
				"addr": ip.IPAddress, "version": 4})
		}
		if prev, ok := addresses[neutron.NetworkName].([]any); ok {
			list = append(prev, list...)
		}
		addresses[neutron.NetworkName] = list
		for _, g := range p.SecurityGroups {
			if sg, ok := c.St.SecurityGroups[g]; ok && !seen[sg.Name] {
				seen[sg.Name] = true
				sgNames = append(sgNames, map[string]any{"name": sg.Name})
			}
		}
	}
	f, _ := findFlavor(s.FlavorID)
	var flv any
	if mv.AtLeast(2, 47) {
		flv = map[string]any{"disk": f.Disk, "ephemeral": 0, "extra_specs": map[string]string{},
			"original_name": f.Name, "ram": f.RAM, "swap": 0, "vcpus": f.VCPUs}
	} else {
		flv = map[string]any{"id": f.ID, "links": []any{map[string]any{"href": c.baseURL + "/compute/flavors/" + f.ID, "rel": "bookmark"}}}
	}
	var vols []any
	for _, v := range s.Volumes {
		e := map[string]any{"id": v.VolumeID}
		if mv.AtLeast(2, 3) {
			e["delete_on_termination"] = false
		}
		vols = append(vols, e)
	}
	if vols == nil {
		vols = []any{}
	}
	var keyName any
	if s.KeyName != "" {
		keyName = s.KeyName
	}
	hostID := ""
	if s.Hypervisor != "" {
		sum := sha256.Sum224([]byte(s.ProjectID + s.Hypervisor))
		hostID = hex.EncodeToString(sum[:])
	}
	md := s.Metadata
	if md == nil {
		md = map[string]string{}
	}
	var hyper any
	if s.Hypervisor != "" {
		hyper = s.Hypervisor
	}
	b := map[string]any{
		"OS-DCF:diskConfig":                   "MANUAL",
		"OS-EXT-AZ:availability_zone":         s.AZ,
		"OS-EXT-SRV-ATTR:host":                hyper,
		"OS-EXT-SRV-ATTR:hypervisor_hostname": hyper,
		"OS-EXT-SRV-ATTR:instance_name":       "instance-" + s.ID[:8],
		"OS-EXT-STS:power_state":              s.PowerState,
		"OS-EXT-STS:task_state":               core.NilIfEmpty(s.TaskState),
		"OS-EXT-STS:vm_state":                 s.VMState,
		"OS-SRV-USG:launched_at":              core.FmtTime(s.LaunchedAt, core.NoZTime),
		"OS-SRV-USG:terminated_at":            nil,
		"accessIPv4":                          "",
		"accessIPv6":                          "",
		"addresses":                           addresses,
		"config_drive":                        "",
		"created":                             s.CreatedAt.UTC().Format(core.NovaTime),
		"updated":                             s.UpdatedAt.UTC().Format(core.NovaTime),
		"flavor":                              flv,
		"hostId":                              hostID,
		"id":                                  s.ID,
		"image": map[string]any{"id": s.ImageID, "links": []any{map[string]any{
			"href": c.baseURL + "/compute/images/" + s.ImageID, "rel": "bookmark"}}},
		"key_name":                             keyName,
		"links":                                c.link("/servers/" + s.ID),
		"metadata":                             md,
		"name":                                 s.Name,
		"os-extended-volumes:volumes_attached": vols,
		"status":                               StatusOf(s),
		"tenant_id":                            s.ProjectID,
		"user_id":                              s.UserID,
	}
	if sgNames != nil {
		b["security_groups"] = sgNames
	}
	if st := StatusOf(s); st == "BUILD" || st == "ACTIVE" || st == "REBUILD" {
		b["progress"] = 0
	}
	if mv.AtLeast(2, 3) {
		b["OS-EXT-SRV-ATTR:hostname"] = s.Hostname
		b["OS-EXT-SRV-ATTR:kernel_id"] = ""
		b["OS-EXT-SRV-ATTR:launch_index"] = 0
		b["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		b["OS-EXT-SRV-ATTR:reservation_id"] = "r-" + s.ID[:8]
		b["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
		b["OS-EXT-SRV-ATTR:user_data"] = core.NilIfEmpty(s.UserData)
	}
	if mv.AtLeast(2, 9) {
		b["locked"] = false
	}
	if mv.AtLeast(2, 16) {
		hs := "UP"
		if s.Hypervisor == "" {
			hs = ""
		}
		b["host_status"] = hs
	}
	if mv.AtLeast(2, 19) {
		b["description"] = s.Description
	}
	if mv.AtLeast(2, 26) {
		tags := s.Tags
		if tags == nil {
			tags = []string{}
		}
		b["tags"] = tags
	}
	if mv.AtLeast(2, 63) {
		b["trusted_image_certificates"] = nil
	}
	if mv.AtLeast(2, 71) {
		groups := []string{}
		if s.GroupID != "" {
			groups = append(groups, s.GroupID)
		}
		b["server_groups"] = groups
	}
	if mv.AtLeast(2, 73) {
		b["locked_reason"] = nil
	}
	if s.Fault != nil && (s.VMState == "error") {
		b["fault"] = map[string]any{"code": s.Fault.Code, "message": s.Fault.Message,
			"details": s.Fault.Details, "created": s.Fault.Created.UTC().Format(core.NovaTime)}
	}
	return b
}

func (c *Service) SortedServers() []*state.Server {
	// nova lists newest first
	all := core.ByCreation(c.St.Servers, func(s *state.Server) (time.Time, string) { return s.CreatedAt, s.ID }, true)
	out := all[:0]
	for _, s := range all {
		if s.TaskState != "deleted" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Service) listServers(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	detail := strings.HasSuffix(r.URL.Path, "/detail")
	q := r.URL.Query()
	var nameRE *regexp.Regexp
	if n := q.Get("name"); n != "" {
		re, err := regexp.Compile(n)
		if err != nil {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute name: not a valid regular expression"))
			return
		}
		nameRE = re
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := []any{}
	marker := q.Get("marker")
	passedMarker := marker == ""
	limit := atoiDefault(q.Get("limit"), 1000)
	for _, s := range c.SortedServers() {
		if !passedMarker {
			passedMarker = s.ID == marker
			continue
		}
		if nameRE != nil && !nameRE.MatchString(s.Name) {
			continue
		}
		if st := q.Get("status"); st != "" && !strings.EqualFold(st, StatusOf(s)) {
			continue
		}
		if ip := q.Get("ip"); ip != "" && !c.serverHasIPPrefix(s, ip) {
			continue
		}
		if !tagsMatch(s.Tags, q.Get("tags"), q.Get("tags-any"), q.Get("not-tags"), q.Get("not-tags-any")) {
			continue
		}
		if len(out) >= limit {
			break
		}
		if detail {
			out = append(out, c.serverBody(s, mv))
		} else {
			out = append(out, map[string]any{"id": s.ID, "name": s.Name, "links": c.link("/servers/" + s.ID)})
		}
	}
	if !passedMarker {
		core.WriteError(w, core.Compute, core.Errf(400, "marker [%s] not found", marker))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"servers": out})
}

func (c *Service) serverHasIPPrefix(s *state.Server, re string) bool {
	rx, err := regexp.Compile(re)
	if err != nil {
		return false
	}
	for _, pid := range s.PortIDs {
		if p, ok := c.St.Ports[pid]; ok {
			for _, ip := range p.FixedIPs {
				if rx.MatchString(ip.IPAddress) {
					return true
				}
			}
		}
	}
	return false
}

func (c *Service) updateServer(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Server *struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
			AccessIPv4  *string `json:"accessIPv4"`
			AccessIPv6  *string `json:"accessIPv6"`
		} `json:"server"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Server == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server. Value: None. None is not of type 'object'"))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if req.Server.Name != nil {
		if strings.TrimSpace(*req.Server.Name) == "" || len(*req.Server.Name) > 255 {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute name. Value: %s. '%s' does not match '^(?! )[\\S ]*(?<! )$'", *req.Server.Name, *req.Server.Name))
			return
		}
		s.Name = *req.Server.Name
	}
	if req.Server.Description != nil {
		if !mv.AtLeast(2, 19) {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)"))
			return
		}
		s.Description = req.Server.Description
	}
	s.UpdatedAt = time.Now()
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"server": c.serverBody(s, mv)})
}

// hostnameFor turns a display name into a DNS label (as nova does for the
// hostname) that is unique among live servers.
func (c *Service) hostnameFor(name, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '_' || r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 50 {
		h = strings.Trim(h[:50], "-")
	}
	if h == "" {
		h = "server"
	}
	for _, s := range c.St.Servers {
		if s.ID != id && s.Hostname == h {
			return h + "-" + id[:8]
		}
	}
	return h
}

type createServerReq struct {
	Server *struct {
		Name             string                       `json:"name"`
		ImageRef         string                       `json:"imageRef"`
		FlavorRef        flexString                   `json:"flavorRef"`
		KeyName          string                       `json:"key_name"`
		Networks         json.RawMessage              `json:"networks"`
		SecurityGroups   []struct{ Name string }      `json:"security_groups"`
		Metadata         map[string]string            `json:"metadata"`
		AZ               string                       `json:"availability_zone"`
		UserData         string                       `json:"user_data"`
		Description      *string                      `json:"description"`
		Tags             []string                     `json:"tags"`
		BlockDeviceMapV2 []map[string]json.RawMessage `json:"block_device_mapping_v2"`
		BlockDeviceMap   []json.RawMessage            `json:"block_device_mapping"`
		Host             string                       `json:"host"`
		HypervisorHost   string                       `json:"hypervisor_hostname"`
		MinCount         *int                         `json:"min_count"`
		MaxCount         *int                         `json:"max_count"`
	} `json:"server"`
	Hints  map[string]any `json:"os:scheduler_hints"`
	Hints2 map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

type netRequest struct {
	UUID    string `json:"uuid"`
	Port    string `json:"port"`
	FixedIP string `json:"fixed_ip"`
	Tag     string `json:"tag"`
}

func (c *Service) createServer(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req createServerReq
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Compute, core.Errf(400, "%s", err))
		return
	}
	rs := req.Server
	if rs == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server. Value: None. None is not of type 'object'"))
		return
	}
	bad := func(format string, args ...any) { core.WriteError(w, core.Compute, core.Errf(400, format, args...)) }
	if strings.TrimSpace(rs.Name) == "" || len(rs.Name) > 255 {
		bad("Invalid input for field/attribute name. Value: %s. '%s' is not a valid server name", rs.Name, rs.Name)
		return
	}
	if rs.FlavorRef == "" {
		bad("Invalid input for field/attribute server. Value: ... 'flavorRef' is a required property")
		return
	}
	if (rs.MinCount != nil && *rs.MinCount != 1) || (rs.MaxCount != nil && *rs.MaxCount != 1) {
		bad("The local cloud creates one server per request (min_count/max_count must be 1).")
		return
	}
	if rs.Description != nil && !mv.AtLeast(2, 19) {
		bad("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)")
		return
	}
	if len(rs.Tags) > 0 && !mv.AtLeast(2, 52) {
		bad("Invalid input for field/attribute server. Additional properties are not allowed ('tags' was unexpected)")
		return
	}
	flv, ok := findFlavor(string(rs.FlavorRef))
	if !ok {
		bad("Flavor %s could not be found.", rs.FlavorRef)
		return
	}
	if rs.ImageRef == "" && len(rs.BlockDeviceMapV2) == 0 {
		bad("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
		return
	}
	var img glance.Image
	if rs.ImageRef != "" {
		var ok bool
		if img, ok = glance.Find(rs.ImageRef); !ok {
			bad("Can not find requested image")
			return
		}
	}
	if len(rs.BlockDeviceMap) > 0 {
		bad("Block Device Mapping is Invalid: the local cloud takes block_device_mapping_v2, not the legacy block_device_mapping.")
		return
	}
	var bootVols []string
	if len(rs.BlockDeviceMapV2) > 0 {
		var e *core.Error
		if bootVols, e = bootVolumes(rs.BlockDeviceMapV2, img); e != nil {
			core.WriteError(w, core.Compute, e)
			return
		}
	}
	if rs.UserData != "" {
		if _, err := base64.StdEncoding.DecodeString(rs.UserData); err != nil {
			bad("User data needs to be valid base 64.")
			return
		}
	}
	if len(rs.Metadata) > 128 {
		core.WriteError(w, core.Compute, core.Errf(403, "Quota exceeded for metadata_items: Requested %d, but already used 0 of 128 metadata_items", len(rs.Metadata)))
		return
	}
	for k, v := range rs.Metadata {
		if k == "" || len(k) > 255 || len(v) > 255 {
			bad("Invalid input for field/attribute metadata. Metadata keys and values must be 1 to 255 characters")
			return
		}
	}

	// networks: required from 2.37 ("auto", "none" or a list).
	var nets []netRequest
	netMode := "list"
	switch {
	case len(rs.Networks) == 0 || string(rs.Networks) == "null":
		if mv.AtLeast(2, 37) {
			bad("Invalid input for field/attribute server. Value: ... 'networks' is a required property")
			return
		}
		netMode = "auto"
	case rs.Networks[0] == '"':
		var s string
		_ = json.Unmarshal(rs.Networks, &s)
		if !mv.AtLeast(2, 37) || (s != "auto" && s != "none") {
			bad("Invalid input for field/attribute networks. Value: %s. '%s' is not of type 'array'", s, s)
			return
		}
		netMode = s
	default:
		if err := json.Unmarshal(rs.Networks, &nets); err != nil {
			bad("Invalid input for field/attribute networks: %v", err)
			return
		}
		if len(nets) == 0 && mv.AtLeast(2, 37) {
			bad("Invalid input for field/attribute networks. Value: []. [] is too short")
			return
		}
		if len(nets) == 0 {
			netMode = "auto"
		}
	}
	if len(nets) > 1 {
		bad("The local cloud gives a server one interface: pass one entry in networks.")
		return
	}

	if (rs.Host != "" || rs.HypervisorHost != "") && !mv.AtLeast(2, 74) {
		bad("Invalid input for field/attribute server. Additional properties are not allowed ('host', 'hypervisor_hostname' were unexpected)")
		return
	}
	wantHost := firstNonEmpty(rs.Host, rs.HypervisorHost)
	if wantHost != "" && !c.hypervisorExists(wantHost) {
		bad("Compute host %s could not be found.", wantHost)
		return
	}
	hints := req.Hints
	if hints == nil {
		hints = req.Hints2
	}
	groupID := ""
	if g, ok := hints["group"].(string); ok {
		groupID = g
	}

	t := keystone.TokenFrom(r.Context())
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if rs.KeyName != "" {
		if _, ok := c.St.Keypairs[rs.KeyName]; !ok {
			bad("Invalid key_name provided.")
			return
		}
	}
	az := rs.AZ
	if i := strings.Index(az, ":"); i >= 0 {
		az = az[:i]
	}
	if az != "" && !slices.Contains(c.cfg.AvailabilityZones, az) {
		bad("The requested availability zone is not available")
		return
	}
	if groupID != "" {
		if _, ok := c.St.ServerGroups[groupID]; !ok {
			bad("Invalid input for field/attribute group. Value: %s. Instance group %s could not be found.", groupID, groupID)
			return
		}
	}
	if e := c.checkBootVolumesLocked(bootVols); e != nil {
		core.WriteError(w, core.Compute, e)
		return
	}
	// security groups by name or id (only for ports nova creates).
	var sgIDs []string
	var sgNames []string
	for _, ref := range rs.SecurityGroups {
		found := ""
		for _, g := range c.neutron.SortedSecGroups() {
			if g.ID == ref.Name || g.Name == ref.Name {
				if found != "" && g.Name == ref.Name {
					core.WriteError(w, core.Compute, core.Errf(409, "Multiple security_group matches found for name '%s', use an ID to be more specific.", ref.Name))
					return
				}
				found = g.ID
			}
		}
		if found == "" {
			bad("Security group %s not found.", ref.Name)
			return
		}
		if !slices.Contains(sgIDs, found) {
			sgIDs = append(sgIDs, found)
			sgNames = append(sgNames, c.St.SecurityGroups[found].Name)
		}
	}
	var portID, fixedIP string
	if len(nets) == 1 {
		n := nets[0]
		switch {
		case n.Port != "":
			p, ok := c.St.Ports[n.Port]
			if !ok {
				bad("Port %s could not be found.", n.Port)
				return
			}
			if p.DeviceID != "" {
				core.WriteError(w, core.Compute, core.Errf(409, "Port %s is still in use.", n.Port))
				return
			}
			portID = p.ID
			// Nova binds the port now so no other server can claim it.
			p.DeviceOwner = "compute:" + firstNonEmpty(az, c.cfg.AvailabilityZones[0])
		case n.UUID != "":
			if n.UUID != c.St.NetworkID {
				bad("Network %s could not be found.", n.UUID)
				return
			}
			if n.FixedIP != "" {
				a, err := netip.ParseAddr(n.FixedIP)
				if err != nil {
					bad("Invalid input for field/attribute fixed_ip. Value: %s. '%s' is not a 'ip-address'", n.FixedIP, n.FixedIP)
					return
				}
				if c.neutron.IPHolder(a.String()) != nil {
					core.WriteError(w, core.Compute, core.Errf(409, "Fixed IP address %s is already in use on instance.", a))
					return
				}
				fixedIP = a.String()
			}
		default:
			bad("Bad networks format: network uuid is not in proper format ()")
			return
		}
	}
	if len(sgIDs) == 0 {
		sgIDs = []string{c.St.DefaultSGID}
		sgNames = []string{"default"}
	}

	now := time.Now()
	s := &state.Server{
		ID: core.NewUUID(), Name: rs.Name, Description: rs.Description, ProjectID: t.ProjectID, UserID: t.UserID,
		FlavorID: flv.ID, ImageID: img.ID, KeyName: rs.KeyName, Metadata: rs.Metadata,
		AZ: az, GroupID: groupID, SecurityGroups: sgNames, VMState: "building", TaskState: "scheduling",
		UserData: rs.UserData, Tags: rs.Tags, CreatedAt: now, UpdatedAt: now, RequestedHost: wantHost,
	}
	if portID != "" {
		c.St.Ports[portID].DeviceID = s.ID
	}
	s.Hostname = c.hostnameFor(rs.Name, s.ID)
	if groupID != "" {
		g := c.St.ServerGroups[groupID]
		g.Members = append(g.Members, s.ID)
	}
	vols := c.reserveBootVolumesLocked(s, bootVols)
	c.St.Servers[s.ID] = s
	c.Save()
	spec := bootSpec{netMode: netMode, portID: portID, fixedIP: fixedIP, sgIDs: sgIDs, volumes: vols}
	c.Go(func(ctx context.Context) { c.bootServer(ctx, s.ID, spec) })

	adminPass := core.RandomSecret(12)
	var sgOut []any
	for _, n := range sgNames {
		sgOut = append(sgOut, map[string]any{"name": n})
	}
	w.Header().Set("Location", c.baseURL+"/compute/v2.1/servers/"+s.ID)
	core.WriteJSON(w, 202, map[string]any{"server": map[string]any{
		"id": s.ID, "links": c.link("/servers/" + s.ID), "OS-DCF:diskConfig": "MANUAL",
		"adminPass": adminPass, "security_groups": sgOut,
	}})
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func (c *Service) deleteServer(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if !s.Deleting {
		s.Deleting = true
		s.TaskState = "deleting"
		s.UpdatedAt = time.Now()
		c.Save()
		id := s.ID
		if !c.Go(func(ctx context.Context) { c.teardownServer(ctx, id) }) {
			core.WriteError(w, core.Compute, core.Errf(503, "The local cloud is shutting down."))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Service) serverIPs(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	addrs := map[string]any{}
	for _, pid := range s.PortIDs {
		if p, ok := c.St.Ports[pid]; ok {
			var l []any
			if prev, ok := addrs[neutron.NetworkName].([]any); ok {
				l = prev
			}
			for _, ip := range p.FixedIPs {
				l = append(l, map[string]any{"addr": ip.IPAddress, "version": 4})
			}
			addrs[neutron.NetworkName] = l
		}
	}
	if n := r.PathValue("net"); n != "" {
		l, ok := addrs[n]
		if !ok {
			core.WriteError(w, core.Compute, core.Errf(404, "Instance is not a member of specified network"))
			return
		}
		core.WriteJSON(w, 200, map[string]any{n: l})
		return
	}
	core.WriteJSON(w, 200, map[string]any{"addresses": addrs})
}

func (c *Service) listInterfaces(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	out := []any{}
	for _, pid := range s.PortIDs {
		if p, ok := c.St.Ports[pid]; ok {
			out = append(out, map[string]any{"fixed_ips": p.FixedIPs, "mac_addr": p.MAC, "net_id": p.NetworkID,
				"port_id": p.ID, "port_state": c.neutron.PortStatus(p)})
		}
	}
	core.WriteJSON(w, 200, map[string]any{"interfaceAttachments": out})
}

// ---- metadata ----

func (c *Service) getMetadata(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	md := s.Metadata
	if md == nil {
		md = map[string]string{}
	}
	core.WriteJSON(w, 200, map[string]any{"metadata": md})
}

// setMetadata: PUT replaces all metadata, POST merges.
func (c *Service) setMetadata(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Metadata == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Malformed request body"))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPut || s.Metadata == nil {
		s.Metadata = map[string]string{}
	}
	for k, v := range req.Metadata {
		s.Metadata[k] = v
	}
	if len(s.Metadata) > 128 {
		core.WriteError(w, core.Compute, core.Errf(403, "Quota exceeded for metadata_items: Requested %d, but already used 0 of 128 metadata_items", len(s.Metadata)))
		return
	}
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"metadata": s.Metadata})
}

func (c *Service) getMetadataItem(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	v, ok := s.Metadata[r.PathValue("key")]
	if !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Metadata item was not found"))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"meta": map[string]string{r.PathValue("key"): v}})
}

func (c *Service) setMetadataItem(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Meta map[string]string `json:"meta"`
	}
	if err := core.ReadJSON(r, &req); err != nil || len(req.Meta) != 1 {
		core.WriteError(w, core.Compute, core.Errf(400, "Request body contains too many items"))
		return
	}
	key := r.PathValue("key")
	if _, ok := req.Meta[key]; !ok {
		core.WriteError(w, core.Compute, core.Errf(400, "Request body and URI mismatch"))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if s.Metadata == nil {
		s.Metadata = map[string]string{}
	}
	s.Metadata[key] = req.Meta[key]
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"meta": req.Meta})
}

func (c *Service) deleteMetadataItem(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if _, ok := s.Metadata[r.PathValue("key")]; !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Metadata item was not found"))
		return
	}
	delete(s.Metadata, r.PathValue("key"))
	c.Save()
	w.WriteHeader(http.StatusNoContent)
}

// invalidState is nova's InstanceInvalidState answer.
func invalidState(s *state.Server, action string) *core.Error {
	if s.TaskState != "" {
		return core.Errf(409, "Cannot '%s' instance %s while it is in task_state %s", action, s.ID, s.TaskState)
	}
	return core.Errf(409, "Cannot '%s' instance %s while it is in vm_state %s", action, s.ID, s.VMState)
}

func (c *Service) hypervisorExists(name string) bool {
	for i := 0; i < c.cfg.Hypervisors; i++ {
		if c.hypervisorName(i) == name {
			return true
		}
	}
	return false
}

// flexString accepts a JSON string or number (nova's flavorRef may be either).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("flavorRef must be a string or an integer")
	}
	*f = flexString(n.String())
	return nil
}

// tagsMatch applies nova's tag filters (comma-separated lists): tags = all
// of, tags-any = one of, not-tags = not all of, not-tags-any = none of.
func tagsMatch(have []string, all, anyOf, notAll, notAny string) bool {
	split := func(s string) []string {
		var out []string
		for _, t := range strings.Split(s, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
		return out
	}
	count := func(list []string) int {
		n := 0
		for _, t := range list {
			if slices.Contains(have, t) {
				n++
			}
		}
		return n
	}
	if l := split(all); len(l) > 0 && count(l) != len(l) {
		return false
	}
	if l := split(anyOf); len(l) > 0 && count(l) == 0 {
		return false
	}
	if l := split(notAll); len(l) > 0 && count(l) == len(l) {
		return false
	}
	if l := split(notAny); len(l) > 0 && count(l) > 0 {
		return false
	}
	return true
}
