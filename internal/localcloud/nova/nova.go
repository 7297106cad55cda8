package nova

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Nova's microversion range: up to 2.79 (Train), as the issue asks; higher
// versions are refused with 406 as nova refuses versions above its maximum.
var (
	novaMin = core.Microversion{Major: 2, Minor: 1}
	novaMax = core.Microversion{Major: 2, Minor: 79}
	novaAPI = core.VersionedAPI{Service: core.Compute, Type: "compute",
		LegacyHeader: "X-OpenStack-Nova-API-Version", Min: novaMin, Max: novaMax}
)

// nova wraps a compute handler: token check, microversion negotiation and
// the version headers nova puts on every answer.
func (c *Service) nova(h core.VersionedHandler) http.HandlerFunc {
	return c.authed(core.Compute, func(w http.ResponseWriter, r *http.Request) {
		if mv, ok := novaAPI.Negotiate(w, r); ok {
			h(w, r, mv)
		}
	})
}

func (c *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /compute", c.novaVersions)
	mux.HandleFunc("GET /compute/{$}", c.novaVersions)
	mux.HandleFunc("GET /compute/v2.1", c.novaVersion)
	mux.HandleFunc("GET /compute/v2.1/{$}", c.novaVersion)
	n := c.nova
	mux.HandleFunc("GET /compute/v2.1/flavors", n(c.listFlavors))
	mux.HandleFunc("GET /compute/v2.1/flavors/detail", n(c.listFlavors))
	mux.HandleFunc("GET /compute/v2.1/flavors/{id}", n(c.getFlavor))
	mux.HandleFunc("GET /compute/v2.1/flavors/{id}/os-extra_specs", n(c.getFlavorExtraSpecs))
	mux.HandleFunc("GET /compute/v2.1/os-keypairs", n(c.listKeypairs))
	mux.HandleFunc("POST /compute/v2.1/os-keypairs", n(c.createKeypair))
	mux.HandleFunc("GET /compute/v2.1/os-keypairs/{name}", n(c.getKeypair))
	mux.HandleFunc("DELETE /compute/v2.1/os-keypairs/{name}", n(c.deleteKeypair))
	mux.HandleFunc("GET /compute/v2.1/os-server-groups", n(c.listServerGroups))
	mux.HandleFunc("POST /compute/v2.1/os-server-groups", n(c.createServerGroup))
	mux.HandleFunc("GET /compute/v2.1/os-server-groups/{id}", n(c.getServerGroup))
	mux.HandleFunc("DELETE /compute/v2.1/os-server-groups/{id}", n(c.deleteServerGroup))
	mux.HandleFunc("GET /compute/v2.1/os-availability-zone", n(c.listAZs))
	mux.HandleFunc("GET /compute/v2.1/os-availability-zone/detail", n(c.listAZs))
	mux.HandleFunc("GET /compute/v2.1/limits", n(c.getLimits))
	mux.HandleFunc("GET /compute/v2.1/images", n(c.novaImages))
	mux.HandleFunc("GET /compute/v2.1/images/detail", n(c.novaImages))
	mux.HandleFunc("GET /compute/v2.1/images/{id}", n(c.novaImages))
	c.serverRoutes(mux)
	c.serverTagRoutes(mux)
}

func (c *Service) novaVersionBody() map[string]any {
	return map[string]any{
		"id": "v2.1",
		"links": []any{
			map[string]any{"href": c.baseURL + "/compute/v2.1/", "rel": "self"},
			map[string]any{"href": "http://docs.openstack.org/", "rel": "describedby", "type": "text/html"},
		},
		"media-types": []any{map[string]any{"base": "application/json",
			"type": "application/vnd.openstack.compute+json;version=2.1"}},
		"status": "CURRENT", "version": novaMax.String(), "min_version": novaMin.String(),
		"updated": "2013-07-23T11:33:21Z",
	}
}

func (c *Service) novaVersions(w http.ResponseWriter, r *http.Request) {
	v := c.novaVersionBody()
	delete(v, "media-types")
	v["links"] = v["links"].([]any)[:1]
	core.WriteJSON(w, 200, map[string]any{"versions": []any{v}})
}

func (c *Service) novaVersion(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, 200, map[string]any{"version": c.novaVersionBody()})
}

func (c *Service) link(path string) []any {
	return []any{
		map[string]any{"href": c.baseURL + "/compute/v2.1" + path, "rel": "self"},
		map[string]any{"href": c.baseURL + "/compute" + path, "rel": "bookmark"},
	}
}

// ---- flavors ----

type flavor struct {
	ID    string
	Name  string
	VCPUs int
	RAM   int // MiB
	Disk  int // GiB
}

var seededFlavors = []flavor{
	{"1", "m1.tiny", 1, 512, 1},
	{"2", "m1.small", 1, 2048, 20},
	{"3", "m1.medium", 2, 4096, 40},
	{"4", "m1.large", 4, 8192, 80},
	{"5", "m1.xlarge", 8, 16384, 160},
}

func findFlavor(ref string) (flavor, bool) {
	// flavorRef may be an id or a link ending in the id.
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	for _, f := range seededFlavors {
		if f.ID == ref {
			return f, true
		}
	}
	return flavor{}, false
}

func (c *Service) flavorBody(f flavor, mv core.Microversion, detail bool) map[string]any {
	b := map[string]any{"id": f.ID, "name": f.Name, "links": c.link("/flavors/" + f.ID)}
	if mv.AtLeast(2, 55) {
		b["description"] = nil
	}
	if !detail {
		return b
	}
	b["OS-FLV-DISABLED:disabled"] = false
	b["disk"] = f.Disk
	b["OS-FLV-EXT-DATA:ephemeral"] = 0
	b["os-flavor-access:is_public"] = true
	b["ram"] = f.RAM
	b["vcpus"] = f.VCPUs
	b["rxtx_factor"] = 1.0
	if mv.AtLeast(2, 75) {
		b["swap"] = 0
	} else {
		b["swap"] = ""
	}
	if mv.AtLeast(2, 61) {
		b["extra_specs"] = map[string]string{}
	}
	return b
}

func (c *Service) listFlavors(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	detail := strings.HasSuffix(r.URL.Path, "/detail")
	var out []any
	minRAM, minDisk := atoiDefault(r.URL.Query().Get("minRam"), 0), atoiDefault(r.URL.Query().Get("minDisk"), 0)
	for _, f := range seededFlavors {
		if f.RAM < minRAM || f.Disk < minDisk {
			continue
		}
		out = append(out, c.flavorBody(f, mv, detail))
	}
	core.WriteJSON(w, 200, map[string]any{"flavors": out})
}

func (c *Service) getFlavor(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	f, ok := findFlavor(r.PathValue("id"))
	if !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Flavor %s could not be found.", r.PathValue("id")))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"flavor": c.flavorBody(f, mv, true)})
}

func (c *Service) getFlavorExtraSpecs(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	if _, ok := findFlavor(r.PathValue("id")); !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Flavor %s could not be found.", r.PathValue("id")))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"extra_specs": map[string]string{}})
}

func atoiDefault(s string, def int) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		return def
	}
	return n
}

// novaImages: nova's image proxy was removed in 2.36; before it, it lists
// glance's images.
func (c *Service) novaImages(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	if mv.AtLeast(2, 36) {
		core.WriteError(w, core.Compute, core.Errf(404, "The resource could not be found."))
		return
	}
	body := func(img glance.Image) map[string]any {
		return map[string]any{"id": img.ID, "name": img.Name, "links": c.link("/images/" + img.ID),
			"status": "ACTIVE", "minDisk": 0, "minRam": 0, "progress": 100, "metadata": map[string]string{},
			"created": img.Created.Format(core.NovaTime), "updated": img.Created.Format(core.NovaTime)}
	}
	if id := r.PathValue("id"); id != "" {
		img, ok := glance.Find(id)
		if !ok || img.ID != id {
			core.WriteError(w, core.Compute, core.Errf(404, "Image not found."))
			return
		}
		core.WriteJSON(w, 200, map[string]any{"image": body(img)})
		return
	}
	var all []any
	for _, img := range glance.Catalog() {
		all = append(all, body(img))
	}
	core.WriteJSON(w, 200, map[string]any{"images": all})
}

// ---- keypairs ----

var keypairNameRE = regexp.MustCompile(`^[a-zA-Z0-9 _.@-]{1,255}$`)

func md5Fingerprint(pub ssh.PublicKey) string {
	sum := md5.Sum(pub.Marshal())
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

func (c *Service) keypairBody(k *state.Keypair, mv core.Microversion, full bool) map[string]any {
	b := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
	if mv.AtLeast(2, 2) {
		b["type"] = k.Type
	}
	if full {
		b["user_id"] = k.UserID
		b["deleted"] = false
		b["created_at"] = k.CreatedAt.UTC().Format(core.NoZTime)
		b["updated_at"] = nil
		b["deleted_at"] = nil
		b["id"] = k.ID
	}
	return b
}

func (c *Service) listKeypairs(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := []any{}
	for _, k := range core.ByKey(c.St.Keypairs) {
		out = append(out, map[string]any{"keypair": c.keypairBody(k, mv, false)})
	}
	core.WriteJSON(w, 200, map[string]any{"keypairs": out})
}

func (c *Service) getKeypair(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	k, ok := c.St.Keypairs[r.PathValue("name")]
	if !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Keypair %s not found for user %s", r.PathValue("name"), keystone.TokenFrom(r.Context()).UserID))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"keypair": c.keypairBody(k, mv, true)})
}

func (c *Service) createKeypair(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Keypair *struct {
			Name      string  `json:"name"`
			PublicKey *string `json:"public_key"`
			Type      string  `json:"type"`
			UserID    string  `json:"user_id"`
		} `json:"keypair"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Keypair == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute keypair. Value: None. None is not of type 'object'"))
		return
	}
	kp := req.Keypair
	if !keypairNameRE.MatchString(kp.Name) {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute name. Value: %s. '%s' does not match '^[a-zA-Z0-9 _.@-]+$'", kp.Name, kp.Name))
		return
	}
	typ := "ssh"
	if kp.Type != "" {
		if !mv.AtLeast(2, 2) {
			core.WriteError(w, core.Compute, core.Errf(400, "Additional properties are not allowed ('type' was unexpected)"))
			return
		}
		if kp.Type != "ssh" && kp.Type != "x509" {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute type. Value: %s. '%s' is not one of ['ssh', 'x509']", kp.Type, kp.Type))
			return
		}
		typ = kp.Type
	}
	t := keystone.TokenFrom(r.Context())
	k := &state.Keypair{Name: kp.Name, Type: typ, UserID: t.UserID, CreatedAt: time.Now()}
	var private string
	if kp.PublicKey != nil {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*kp.PublicKey))
		if err != nil {
			core.WriteError(w, core.Compute, core.Errf(400, "Keypair data is invalid: failed to generate fingerprint"))
			return
		}
		k.PublicKey = *kp.PublicKey
		k.Fingerprint = md5Fingerprint(pub)
	} else {
		// Nova generates a 2048-bit RSA key and returns the private half once.
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			core.WriteError(w, core.Compute, core.Errf(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible."))
			return
		}
		pub, _ := ssh.NewPublicKey(&key.PublicKey)
		k.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " Generated-by-Nova\n"
		k.Fingerprint = md5Fingerprint(pub)
		private = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	}
	c.Mu.Lock()
	if _, exists := c.St.Keypairs[k.Name]; exists {
		c.Mu.Unlock()
		core.WriteError(w, core.Compute, core.Errf(409, "Key pair '%s' already exists.", k.Name))
		return
	}
	k.ID = c.St.NextKeypairID
	c.St.NextKeypairID++
	c.St.Keypairs[k.Name] = k
	c.Save()
	body := c.keypairBody(k, mv, false)
	c.Mu.Unlock()
	body["user_id"] = k.UserID
	if private != "" {
		body["private_key"] = private
	}
	code := 200
	if mv.AtLeast(2, 2) {
		code = 201
	}
	core.WriteJSON(w, code, map[string]any{"keypair": body})
}

func (c *Service) deleteKeypair(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	name := r.PathValue("name")
	if _, ok := c.St.Keypairs[name]; !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Keypair %s not found for user %s", name, keystone.TokenFrom(r.Context()).UserID))
		return
	}
	delete(c.St.Keypairs, name)
	c.Save()
	if mv.AtLeast(2, 2) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// ---- server groups ----

var serverGroupPolicies = []string{"anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"}

func (c *Service) serverGroupBody(g *state.ServerGroup, mv core.Microversion) map[string]any {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	b := map[string]any{"id": g.ID, "name": g.Name, "members": members}
	if mv.AtLeast(2, 64) {
		rules := map[string]any{}
		if g.MaxPerHV > 0 {
			rules["max_server_per_host"] = g.MaxPerHV
		}
		b["policy"] = g.Policy
		b["rules"] = rules
	} else {
		b["policies"] = []string{g.Policy}
		b["metadata"] = map[string]string{}
	}
	if mv.AtLeast(2, 13) {
		b["project_id"] = g.ProjectID
		b["user_id"] = g.UserID
	}
	return b
}

func (c *Service) listServerGroups(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := []any{}
	for _, g := range core.ByKey(c.St.ServerGroups) {
		out = append(out, c.serverGroupBody(g, mv))
	}
	core.WriteJSON(w, 200, map[string]any{"server_groups": out})
}

func (c *Service) getServerGroup(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	g, ok := c.St.ServerGroups[r.PathValue("id")]
	if !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Instance group %s could not be found.", r.PathValue("id")))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"server_group": c.serverGroupBody(g, mv)})
}

func (c *Service) createServerGroup(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		SG *struct {
			Name     string         `json:"name"`
			Policies []string       `json:"policies"`
			Policy   string         `json:"policy"`
			Rules    map[string]any `json:"rules"`
		} `json:"server_group"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.SG == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server_group. Value: None. None is not of type 'object'"))
		return
	}
	sg := req.SG
	if sg.Name == "" || len(sg.Name) > 255 {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute name. Value: %s. '%s' is too short", sg.Name, sg.Name))
		return
	}
	g := &state.ServerGroup{ID: core.NewUUID(), Name: sg.Name, Members: []string{}}
	if mv.AtLeast(2, 64) {
		if sg.Policies != nil {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server_group. Value: %v. Additional properties are not allowed ('policies' was unexpected)", sg.Policies))
			return
		}
		g.Policy = sg.Policy
		if v, ok := sg.Rules["max_server_per_host"]; ok {
			n, isNum := v.(float64)
			if !isNum || n < 1 || g.Policy != "anti-affinity" {
				core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute rules. Only anti-affinity policy supports max_server_per_host rule with a positive integer value."))
				return
			}
			g.MaxPerHV = int(n)
		}
	} else {
		if sg.Policy != "" {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute server_group. Additional properties are not allowed ('policy' was unexpected)"))
			return
		}
		if len(sg.Policies) != 1 {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute policies. Value: %v. exactly one policy is required", sg.Policies))
			return
		}
		g.Policy = sg.Policies[0]
		if g.Policy == "soft-anti-affinity" || g.Policy == "soft-affinity" {
			if !mv.AtLeast(2, 15) {
				core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute 0. Value: %s. '%s' is not one of ['anti-affinity', 'affinity']", g.Policy, g.Policy))
				return
			}
		}
	}
	valid := false
	for _, p := range serverGroupPolicies {
		valid = valid || p == g.Policy
	}
	if !valid {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute policy. Value: %s. '%s' is not one of %v", g.Policy, g.Policy, serverGroupPolicies))
		return
	}
	t := keystone.TokenFrom(r.Context())
	g.ProjectID, g.UserID = t.ProjectID, t.UserID
	c.Mu.Lock()
	c.St.ServerGroups[g.ID] = g
	c.Save()
	body := c.serverGroupBody(g, mv)
	c.Mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{"server_group": body})
}

func (c *Service) deleteServerGroup(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	id := r.PathValue("id")
	if _, ok := c.St.ServerGroups[id]; !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Instance group %s could not be found.", id))
		return
	}
	delete(c.St.ServerGroups, id)
	c.Save()
	w.WriteHeader(http.StatusNoContent)
}

// ---- availability zones, limits ----

func (c *Service) hypervisorName(i int) string { return fmt.Sprintf("compute-%d", i) }

func (c *Service) hypervisorZone(i int) string {
	return c.cfg.AvailabilityZones[i%len(c.cfg.AvailabilityZones)]
}

func (c *Service) listAZs(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	detail := strings.HasSuffix(r.URL.Path, "/detail")
	var out []any
	for _, z := range c.cfg.AvailabilityZones {
		var hosts any
		if detail {
			hs := map[string]any{}
			for i := 0; i < c.cfg.Hypervisors; i++ {
				if c.hypervisorZone(i) == z {
					hs[c.hypervisorName(i)] = map[string]any{"nova-compute": map[string]any{
						"active": true, "available": true, "updated_at": time.Now().UTC().Format(core.NoZTime)}}
				}
			}
			hosts = hs
		}
		out = append(out, map[string]any{"zoneName": z, "zoneState": map[string]any{"available": true}, "hosts": hosts})
	}
	core.WriteJSON(w, 200, map[string]any{"availabilityZoneInfo": out})
}

func (c *Service) getLimits(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	cores, ram := 0, 0
	for _, s := range c.St.Servers {
		if f, ok := findFlavor(s.FlavorID); ok {
			cores += f.VCPUs
			ram += f.RAM
		}
	}
	abs := map[string]any{
		"maxServerMeta": 128, "maxTotalCores": 200, "maxTotalInstances": 100,
		"maxTotalKeypairs": 100, "maxTotalRAMSize": 512000, "maxServerGroups": 100,
		"maxServerGroupMembers": 100, "totalCoresUsed": cores, "totalInstancesUsed": len(c.St.Servers),
		"totalRAMUsed": ram, "totalServerGroupsUsed": len(c.St.ServerGroups),
	}
	if !mv.AtLeast(2, 57) {
		abs["maxImageMeta"] = 128
		abs["maxPersonality"] = 5
		abs["maxPersonalitySize"] = 10240
	}
	if !mv.AtLeast(2, 36) {
		abs["maxSecurityGroupRules"] = -1
		abs["maxSecurityGroups"] = -1
		abs["maxTotalFloatingIps"] = -1
		abs["totalSecurityGroupsUsed"] = 0
		abs["totalFloatingIpsUsed"] = 0
	}
	core.WriteJSON(w, 200, map[string]any{"limits": map[string]any{"absolute": abs, "rate": []any{}}})
}
