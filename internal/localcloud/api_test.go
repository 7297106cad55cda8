package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/samples"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// checkShape compares the keys of ours with the keys of the object at the
// top of a sample (under wrapper, e.g. "server"). Keys listed in ignore are
// extensions the local cloud does not offer. Without the samples (see
// package samples) only the shape comparison is skipped, and under CI the
// test fails.
func checkShape(t *testing.T, sample, wrapper string, ours map[string]any, ignore ...string) {
	t.Helper()
	dir, ok := samples.Optional(t, "")
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(dir, sample))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("sample %s: %v", sample, err)
	}
	want, _ := doc[wrapper].(map[string]any)
	if want == nil {
		t.Fatalf("sample %s has no %q object", sample, wrapper)
	}
	for k := range want {
		if slices.Contains(ignore, k) {
			continue
		}
		if _, ok := ours[k]; !ok {
			t.Errorf("%s: key %q of the sample is missing from our answer", sample, k)
		}
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// TestAPIConformance covers identity, microversions, the error envelopes,
// the catalogue calls and the shapes of the answers.
func TestAPIConformance(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()

	t.Run("keystone", func(t *testing.T) {
		// Version discovery: 300 at the root.
		code, _, b := tc.rawDo("GET", "/identity", nil, nil)
		if code != 300 || !strings.Contains(string(b), `"values"`) {
			t.Errorf("GET /identity: %d %s", code, b)
		}
		// Wrong password: 401 in Keystone's shape.
		opts := tc.authOptions()
		opts.Password = "wrong"
		_, err := openstack.AuthenticatedClient(ctx, opts)
		if !gophercloud.ResponseCodeIs(err, 401) {
			t.Errorf("wrong password: %v, want 401", err)
		}
		code, _, b = tc.rawDo("POST", "/identity/v3/auth/tokens", map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
				"user": map[string]any{"name": "admin", "domain": map[string]any{"id": "default"}, "password": "nope"}}}}}, nil)
		if e := obj(decode(t, b), "error"); code != 401 || e["code"] != 401.0 || e["title"] != "Unauthorized" {
			t.Errorf("401 body: %d %s", code, b)
		}
		// By ids: user id + project id.
		res := tokens.Get(ctx, mustIdentity(t, tc), tc.provider.Token())
		user, err := res.ExtractUser()
		if err != nil {
			t.Fatal(err)
		}
		project, _ := res.ExtractProject()
		p2, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: tc.AuthURL(),
			UserID: user.ID, Password: tc.authOptions().Password, TenantID: project.ID})
		if err != nil {
			t.Fatalf("auth by ids: %v", err)
		}
		if p2.Token() == "" {
			t.Errorf("no token from auth by ids")
		}
		// The token answer has the sample's shape and a full catalogue.
		code, hdr, b := tc.rawDo("POST", "/identity/v3/auth/tokens", map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
				"user": map[string]any{"name": "admin", "domain": map[string]any{"name": "Default"}, "password": tc.authOptions().Password}}},
			"scope": map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]any{"name": "Default"}}}}}, nil)
		if code != 201 || hdr.Get("X-Subject-Token") == "" {
			t.Fatalf("token: %d", code)
		}
		tok := obj(decode(t, b), "token")
		checkShape(t, "keystone/project-scoped-password.json", "token", tok)
		var types []string
		for _, e := range tok["catalog"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		for _, want := range []string{"identity", "compute", "image", "volumev3", "block-storage", "network", "load-balancer"} {
			if !slices.Contains(types, want) {
				t.Errorf("catalogue lacks %s: %v", want, types)
			}
		}
		if strings.Contains(string(b), tc.authOptions().Password) {
			t.Errorf("the token answer contains the password")
		}
		// Unscoped token: no catalogue, refused by nova.
		code, hdr, b = tc.rawDo("POST", "/identity/v3/auth/tokens", map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
				"user": map[string]any{"id": user.ID, "password": tc.authOptions().Password}}}}}, nil)
		if code != 201 || obj(decode(t, b), "token")["catalog"] != nil {
			t.Errorf("unscoped: %d %s", code, b)
		}
		code, _, _ = tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"X-Auth-Token": hdr.Get("X-Subject-Token")})
		if code != 401 {
			t.Errorf("nova with an unscoped token: %d, want 401", code)
		}
		// No token / bad token: 401 with the Keystone body on every service.
		for _, p := range []string{"/compute/v2.1/servers", "/network/v2.0/ports", "/volume/v3/" + project.ID + "/volumes", "/image/v2/images"} {
			code, _, b := tc.rawDo("GET", p, nil, map[string]string{"X-Auth-Token": "bogus"})
			if code != 401 || obj(decode(t, b), "error") == nil {
				t.Errorf("GET %s with a bad token: %d %s", p, code, b)
			}
		}
		// Application credentials.
		ac, err := applicationcredentials.Create(ctx, mustIdentity(t, tc), user.ID, applicationcredentials.CreateOpts{Name: "ci"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if ac.Secret == "" {
			t.Fatal("no secret in the create answer")
		}
		pac, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: tc.AuthURL(),
			ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret})
		if err != nil {
			t.Fatalf("auth with application credential: %v", err)
		}
		cac, _ := openstack.NewComputeV2(pac, gophercloud.EndpointOpts{})
		if _, err := flavors.ListDetail(cac, nil).AllPages(ctx); err != nil {
			t.Errorf("nova with an application credential token: %v", err)
		}
		_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: tc.AuthURL(),
			ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: "wrong"})
		if !gophercloud.ResponseCodeIs(err, 401) {
			t.Errorf("wrong application credential secret: %v", err)
		}
		_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: tc.AuthURL(),
			ApplicationCredentialName: "ci", Username: "admin", DomainName: "Default", ApplicationCredentialSecret: ac.Secret})
		if err != nil {
			t.Errorf("application credential by name: %v", err)
		}
		if err := applicationcredentials.Delete(ctx, mustIdentity(t, tc), user.ID, ac.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		// Expired tokens give 401 and gophercloud re-authenticates.
		tc.admin("POST", "/tokens/expire", nil)
		if _, err := flavors.ListDetail(tc.compute, nil).AllPages(ctx); err != nil {
			t.Errorf("call after token expiry (gophercloud should re-authenticate): %v", err)
		}
	})

	t.Run("clouds.yaml and env", func(t *testing.T) {
		dir := t.TempDir()
		if err := tc.WriteClientFiles(dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{CloudsFile, EnvFile} {
			if info, err := os.Stat(filepath.Join(dir, f)); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v %v, want mode 0600", f, info, err)
			}
		}
		ao, eo, _, err := clouds.Parse(clouds.WithCloudName(CloudName), clouds.WithLocations(filepath.Join(dir, CloudsFile)))
		if err != nil {
			t.Fatal(err)
		}
		p, err := config.NewProviderClient(ctx, ao)
		if err != nil {
			t.Fatalf("authenticate from clouds.yaml: %v", err)
		}
		if _, err := openstack.NewComputeV2(p, eo); err != nil {
			t.Errorf("compute endpoint from clouds.yaml: %v", err)
		}
		env, _ := os.ReadFile(filepath.Join(dir, EnvFile))
		for _, want := range []string{"export OS_AUTH_URL=", "export OS_PASSWORD=", "export OS_CLOUD='local'", "export OS_CLIENT_CONFIG_FILE="} {
			if !strings.Contains(string(env), want) {
				t.Errorf("env lacks %s", want)
			}
		}
	})

	t.Run("unknown paths", func(t *testing.T) {
		for path, key := range map[string]string{
			"/compute/v2.1/os-nothing": "itemNotFound",
			"/network/v2.0/routers":    "NeutronError",
		} {
			code, _, b := tc.rawDo("GET", path, nil, nil)
			if code != 404 || decode(t, b)[key] == nil {
				t.Errorf("GET %s: %d %s", path, code, b)
			}
		}
	})

	t.Run("microversions", func(t *testing.T) {
		code, hdr, _ := tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"OpenStack-API-Version": "compute 2.79"})
		if code != 200 || hdr.Get("OpenStack-API-Version") != "compute 2.79" || hdr.Get("X-OpenStack-Nova-API-Version") != "2.79" {
			t.Errorf("2.79: %d %v", code, hdr)
		}
		code, _, b := tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"X-OpenStack-Nova-API-Version": "2.80"})
		if code != 406 {
			t.Errorf("2.80: %d %s, want 406", code, b)
		}
		code, hdr, _ = tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"OpenStack-API-Version": "compute latest"})
		if code != 200 || hdr.Get("X-OpenStack-Nova-API-Version") != "2.79" {
			t.Errorf("latest: %d %v", code, hdr)
		}
		code, _, _ = tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"X-OpenStack-Nova-API-Version": "2.x"})
		if code != 400 {
			t.Errorf("2.x: %d, want 400", code)
		}
		code, _, _ = tc.rawDo("GET", "/volume/v3/"+projectID(t, tc)+"/volumes", nil, map[string]string{"OpenStack-API-Version": "volume 3.60"})
		if code != 406 {
			t.Errorf("cinder 3.60: %d, want 406", code)
		}
		code, hdr, _ = tc.rawDo("GET", "/volume/v3/"+projectID(t, tc)+"/volumes", nil, map[string]string{"OpenStack-API-Version": "volume 3.42"})
		if code != 200 || hdr.Get("OpenStack-API-Version") != "volume 3.42" {
			t.Errorf("cinder 3.42: %d %v", code, hdr)
		}
		code, _, b = tc.rawDo("GET", "/volume/v3/someoneelse/volumes", nil, nil)
		if code != 400 || obj(decode(t, b), "badRequest") == nil {
			t.Errorf("cinder with another project in the URL: %d %s", code, b)
		}
	})

	t.Run("nova catalogue", func(t *testing.T) {
		code, _, b := tc.rawDo("GET", "/compute/v2.1/flavors/2", nil, map[string]string{"OpenStack-API-Version": "compute 2.75"})
		if code != 200 {
			t.Fatalf("flavor: %d", code)
		}
		checkShape(t, "nova/flavors/v2.75/flavor-get-resp.json", "flavor", obj(decode(t, b), "flavor"))
		code, _, b = tc.rawDo("GET", "/compute/v2.1/flavors/nope", nil, nil)
		if code != 404 || obj(decode(t, b), "itemNotFound") == nil {
			t.Errorf("missing flavor: %d %s", code, b)
		}
		pages, err := images.List(tc.image, images.ListOpts{Name: "debian-12-mariadb-galera"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		imgs, _ := images.ExtractImages(pages)
		if len(imgs) != 1 || imgs[0].ID != glance.TheImage().ID {
			t.Errorf("images: %+v", imgs)
		}
		// Keypairs: import (201 from 2.2), duplicate 409, generate, 404 after delete.
		_, pub := newKey(t)
		c210 := *tc.compute
		c210.Microversion = "2.10"
		code, _, b = tc.rawDo("POST", "/compute/v2.1/os-keypairs", map[string]any{"keypair": map[string]any{"name": "k1", "public_key": pub}},
			map[string]string{"OpenStack-API-Version": "compute 2.10"})
		if code != 201 {
			t.Fatalf("import keypair: %d %s", code, b)
		}
		checkShape(t, "nova/os-keypairs/v2.10/keypairs-import-post-resp.json", "keypair", obj(decode(t, b), "keypair"))
		code, _, b = tc.rawDo("GET", "/compute/v2.1/os-keypairs/k1", nil, map[string]string{"OpenStack-API-Version": "compute 2.10"})
		if code != 200 {
			t.Fatalf("get keypair: %d", code)
		}
		kp := obj(decode(t, b), "keypair")
		checkShape(t, "nova/os-keypairs/keypairs-get-resp.json", "keypair", kp)
		if fp, _ := kp["fingerprint"].(string); len(strings.Split(fp, ":")) != 16 {
			t.Errorf("fingerprint %q is not MD5 colon-hex", fp)
		}
		_, err = keypairs.Create(ctx, &c210, keypairs.CreateOpts{Name: "k1", PublicKey: pub}).Extract()
		if !gophercloud.ResponseCodeIs(err, 409) {
			t.Errorf("duplicate keypair: %v, want 409", err)
		}
		_, err = keypairs.Create(ctx, &c210, keypairs.CreateOpts{Name: "bad", PublicKey: "ssh-ed25519 garbage"}).Extract()
		if !gophercloud.ResponseCodeIs(err, 400) {
			t.Errorf("invalid public key: %v, want 400", err)
		}
		gen, err := keypairs.Create(ctx, &c210, keypairs.CreateOpts{Name: "gen"}).Extract()
		if err != nil || !strings.Contains(gen.PrivateKey, "PRIVATE KEY") {
			t.Errorf("generated keypair: %v", err)
		}
		for _, n := range []string{"k1", "gen"} {
			if err := keypairs.Delete(ctx, &c210, n, nil).ExtractErr(); err != nil {
				t.Fatal(err)
			}
		}
		_, err = keypairs.Get(ctx, &c210, "k1", nil).Extract()
		if !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("deleted keypair: %v, want 404", err)
		}
		// Server groups in both shapes.
		code, _, b = tc.rawDo("POST", "/compute/v2.1/os-server-groups", map[string]any{"server_group": map[string]any{"name": "g", "policy": "anti-affinity"}},
			map[string]string{"OpenStack-API-Version": "compute 2.64"})
		if code != 200 {
			t.Fatalf("server group 2.64: %d %s", code, b)
		}
		g := obj(decode(t, b), "server_group")
		checkShape(t, "nova/os-server-groups/v2.64/server-groups-get-resp.json", "server_group", g)
		code, _, b = tc.rawDo("GET", "/compute/v2.1/os-server-groups/"+g["id"].(string), nil, nil)
		if code != 200 {
			t.Fatalf("get group: %d", code)
		}
		checkShape(t, "nova/os-server-groups/server-groups-get-resp.json", "server_group", obj(decode(t, b), "server_group"))
		code, _, _ = tc.rawDo("POST", "/compute/v2.1/os-server-groups", map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"bogus"}}}, nil)
		if code != 400 {
			t.Errorf("bad policy: %d, want 400", code)
		}
		if err := servergroups.Delete(ctx, tc.compute, g["id"].(string)).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		code, _, b = tc.rawDo("GET", "/compute/v2.1/limits", nil, map[string]string{"OpenStack-API-Version": "compute 2.57"})
		if code != 200 {
			t.Fatalf("limits: %d", code)
		}
		checkShape(t, "nova/limits/v2.57/limit-get-resp.json", "limits", obj(decode(t, b), "limits"))
		code, _, b = tc.rawDo("GET", "/compute/v2.1/os-availability-zone", nil, nil)
		if code != 200 || !strings.Contains(string(b), `"zoneName":"nova"`) {
			t.Errorf("availability zones: %d %s", code, b)
		}
	})

	t.Run("load-balancer mounted", func(t *testing.T) {
		code, _, b := tc.rawDo("GET", "/load-balancer/", nil, nil)
		if code != 200 || !strings.Contains(string(b), "versions") {
			t.Errorf("GET /load-balancer/: %d %s", code, b)
		}
		pages, err := loadbalancers.List(tc.lb, nil).AllPages(ctx)
		if err != nil {
			t.Fatalf("list load balancers through the catalogue: %v", err)
		}
		if lbs, _ := loadbalancers.ExtractLoadBalancers(pages); len(lbs) != 0 {
			t.Errorf("load balancers in a new cloud: %d", len(lbs))
		}
		code, _, _ = tc.rawDo("GET", "/load-balancer/v2/lbaas/loadbalancers", nil, map[string]string{"X-Auth-Token": "bogus"})
		if code != 401 {
			t.Errorf("octavia with a bad token: %d, want 401", code)
		}
	})

	t.Run("neutron", func(t *testing.T) {
		nets, err := networks.List(tc.network, networks.ListOpts{Name: neutron.NetworkName}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ns, _ := networks.ExtractNetworks(nets); len(ns) != 1 || ns[0].ID != tc.NetworkID() {
			t.Errorf("network list by name: %+v", ns)
		}
		code, _, b := tc.rawDo("GET", "/network/v2.0/networks/"+tc.NetworkID(), nil, nil)
		if code != 200 {
			t.Fatal(code)
		}
		checkShape(t, "neutron/networks/network-show-response.json", "network", obj(decode(t, b), "network"), "pvlan", "qinq", "dns_domain")
		code, _, b = tc.rawDo("GET", "/network/v2.0/subnets/"+tc.SubnetID(), nil, nil)
		if code != 200 {
			t.Fatal(code)
		}
		checkShape(t, "neutron/subnets/subnet-show-response.json", "subnet", obj(decode(t, b), "subnet"), "router:external")
		code, _, b = tc.rawDo("GET", "/network/v2.0/networks/nope", nil, nil)
		if ne := obj(decode(t, b), "NeutronError"); code != 404 || ne["type"] != "NetworkNotFound" {
			t.Errorf("missing network: %d %s", code, b)
		}
		sg, err := groups.Create(ctx, tc.network, groups.CreateOpts{Name: "web"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if len(sg.Rules) != 2 {
			t.Errorf("new group has %d rules, want the 2 default egress rules", len(sg.Rules))
		}
		tags, err := attributestags.ReplaceAll(ctx, tc.network, "security-groups", sg.ID, attributestags.ReplaceAllOpts{Tags: []string{"pxc", "cluster=a"}}).Extract()
		if err != nil || len(tags) != 2 {
			t.Fatalf("replace tags: %v %v", tags, err)
		}
		for filter, want := range map[string]int{"pxc": 1, "pxc,cluster=a": 1, "pxc,other": 0} {
			pages, err := groups.List(tc.network, groups.ListOpts{Tags: filter}).AllPages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if gs, _ := groups.ExtractGroups(pages); len(gs) != want {
				t.Errorf("groups with tags %q: %d, want %d", filter, len(gs), want)
			}
		}
		_, _, b = tc.rawDo("GET", "/network/v2.0/security-groups/"+sg.ID, nil, nil)
		checkShape(t, "neutron/security-groups/security-group-create-response.json", "security_group", obj(decode(t, b), "security_group"))
		base := rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.ProtocolTCP, PortRangeMin: 3306, PortRangeMax: 3306, RemoteIPPrefix: "10.0.0.0/8"}
		r1, err := rules.Create(ctx, tc.network, base).Extract()
		if err != nil {
			t.Fatal(err)
		}
		_, _, b = tc.rawDo("GET", "/network/v2.0/security-group-rules/"+r1.ID, nil, nil)
		checkShape(t, "neutron/security-groups/security-group-rule-create-response.json", "security_group_rule", obj(decode(t, b), "security_group_rule"))
		wantNeutron := func(what string, err error, code int, typ string) {
			t.Helper()
			var e gophercloud.ErrUnexpectedResponseCode
			if !errors.As(err, &e) || e.Actual != code || !strings.Contains(string(e.Body), typ) {
				t.Errorf("%s: %v, want %d %s", what, err, code, typ)
			}
		}
		_, err = rules.Create(ctx, tc.network, base).Extract()
		wantNeutron("duplicate rule", err, 409, "SecurityGroupRuleExists")
		bad := base
		bad.PortRangeMin, bad.PortRangeMax = 5000, 4000
		_, err = rules.Create(ctx, tc.network, bad).Extract()
		wantNeutron("min > max", err, 400, "SecurityGroupInvalidPortRange")
		bad = base
		bad.RemoteGroupID = sg.ID
		_, err = rules.Create(ctx, tc.network, bad).Extract()
		wantNeutron("prefix and group", err, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix")
		bad = base
		bad.Protocol = ""
		_, err = rules.Create(ctx, tc.network, bad).Extract()
		wantNeutron("ports without protocol", err, 400, "SecurityGroupProtocolRequiredWithPorts")
		bad = base
		bad.RemoteIPPrefix = "not-a-cidr"
		_, err = rules.Create(ctx, tc.network, bad).Extract()
		wantNeutron("bad prefix", err, 400, "NeutronError")

		// Ports: fixed IP conflicts, security group in use.
		ip := tc.Network().Subnet().Addr().As4()
		ip[3] = 200
		fixed := []ports.IP{{SubnetID: tc.SubnetID(), IPAddress: netip.AddrFrom4(ip).String()}}
		p1, err := ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), FixedIPs: fixed, SecurityGroups: &[]string{sg.ID}}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if p1.Status != "DOWN" || p1.FixedIPs[0].IPAddress != netip.AddrFrom4(ip).String() {
			t.Errorf("port: %+v", p1)
		}
		_, _, b = tc.rawDo("GET", "/network/v2.0/ports/"+p1.ID, nil, nil)
		checkShape(t, "neutron/ports/port-show-response.json", "port", obj(decode(t, b), "port"),
			"data_plane_status", "dns_domain", "pvlan_type", "pvlan_community", "hardware_offload_type")
		_, err = ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), FixedIPs: fixed}).Extract()
		wantNeutron("same fixed IP", err, 409, "IpAddressAlreadyAllocated")
		_, err = ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), FixedIPs: []ports.IP{{IPAddress: "192.0.2.10"}}}).Extract()
		wantNeutron("IP outside the subnet", err, 400, "InvalidIpForSubnet")
		err = groups.Delete(ctx, tc.network, sg.ID).ExtractErr()
		wantNeutron("group in use", err, 409, "SecurityGroupInUse")
		if err := ports.Delete(ctx, tc.network, p1.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		_, err = ports.Get(ctx, tc.network, p1.ID).Extract()
		wantNeutron("deleted port", err, 404, "PortNotFound")
		if err := groups.Delete(ctx, tc.network, sg.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		var defaultID string
		pages, _ := groups.List(tc.network, groups.ListOpts{Name: "default"}).AllPages(ctx)
		if gs, _ := groups.ExtractGroups(pages); len(gs) == 1 {
			defaultID = gs[0].ID
		}
		err = groups.Delete(ctx, tc.network, defaultID).ExtractErr()
		wantNeutron("default group", err, 409, "SecurityGroupCannotRemoveDefault")
	})
	tc.assertEmpty()
}

func mustIdentity(t *testing.T, tc *testCloud) *gophercloud.ServiceClient {
	t.Helper()
	c, err := openstack.NewIdentityV3(tc.provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func projectID(t *testing.T, tc *testCloud) string {
	t.Helper()
	p, err := tokens.Get(context.Background(), mustIdentity(t, tc), tc.provider.Token()).ExtractProject()
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestServerCreateShapesAndPorts: the create and show answers have nova's
// shape; a server on a pre-made port takes its address and leaves the port
// behind on delete; the port can be used again.
func TestServerCreateShapesAndPorts(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	p, err := ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), SecurityGroups: &[]string{fx.sgID}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"server": map[string]any{"name": "on-port", "flavorRef": "1", "imageRef": glance.TheImage().ID,
		"key_name": fx.keyName, "networks": []any{map[string]any{"port": p.ID}}}}
	code, hdr, b := tc.rawDo("POST", "/compute/v2.1/servers", body, map[string]string{"OpenStack-API-Version": "compute 2.47"})
	if code != 202 || hdr.Get("Location") == "" {
		t.Fatalf("create: %d %s", code, b)
	}
	created := obj(decode(t, b), "server")
	checkShape(t, "nova/servers/server-create-resp.json", "server", created)
	if _, has := created["status"]; has {
		t.Errorf("create answer has a status (real nova has none)")
	}
	id := created["id"].(string)
	// Same port again: 409.
	code, _, b = tc.rawDo("POST", "/compute/v2.1/servers", body, map[string]string{"OpenStack-API-Version": "compute 2.47"})
	if code != 409 {
		t.Errorf("second server on the same port: %d %s, want 409", code, b)
	}
	s := tc.waitServer(id, "ACTIVE")
	if addr := serverAddr(t, s); addr != p.FixedIPs[0].IPAddress {
		t.Errorf("server address %s, port address %s", addr, p.FixedIPs[0].IPAddress)
	}
	code, _, b = tc.rawDo("GET", "/compute/v2.1/servers/"+id, nil, map[string]string{"OpenStack-API-Version": "compute 2.47"})
	if code != 200 {
		t.Fatal(code)
	}
	checkShape(t, "nova/servers/v2.47/server-get-resp.json", "server", obj(decode(t, b), "server"))
	code, _, b = tc.rawDo("POST", "/compute/v2.1/servers/"+id+"/action", map[string]any{"os-getConsoleOutput": map[string]any{"length": 5}}, nil)
	if code != 200 || len(strings.Split(strings.TrimSpace(obj(map[string]any{"x": decode(t, b)}, "x")["output"].(string)), "\n")) != 5 {
		t.Errorf("console length 5: %d %s", code, b)
	}
	code, _, b = tc.rawDo("POST", "/compute/v2.1/servers/"+id+"/action", map[string]any{"bogus": nil}, nil)
	if code != 400 || obj(decode(t, b), "badRequest") == nil {
		t.Errorf("unknown action: %d %s", code, b)
	}
	port, _ := ports.Get(ctx, tc.network, p.ID).Extract()
	if port.DeviceID != id || port.Status != "ACTIVE" {
		t.Errorf("bound port: device %q status %s", port.DeviceID, port.Status)
	}
	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
	port, err = ports.Get(ctx, tc.network, p.ID).Extract()
	if err != nil || port.DeviceID != "" || port.Status != "DOWN" {
		t.Fatalf("port after delete: %+v %v", port, err)
	}
	// The port (and its address) serves a new server, this time with an RSA
	// keypair that nova generated: its private key logs in.
	gen, err := keypairs.Create(ctx, tc.compute, keypairs.CreateOpts{Name: "generated"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	genSigner, err := ssh.ParsePrivateKey([]byte(gen.PrivateKey))
	if err != nil {
		t.Fatalf("nova's private key: %v", err)
	}
	s2, err := servers.Create(ctx, tc.compute, keypairs.CreateOptsExt{KeyName: "generated", CreateOptsBuilder: servers.CreateOpts{
		Name: "again", FlavorRef: "1", ImageRef: glance.TheImage().ID, Networks: []servers.Network{{Port: p.ID}}}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	s = tc.waitServer(s2.ID, "ACTIVE")
	if addr := serverAddr(t, s); addr != p.FixedIPs[0].IPAddress {
		t.Errorf("reused port: address %s, want %s", addr, p.FixedIPs[0].IPAddress)
	}
	if _, err := sshRun(t, p.FixedIPs[0].IPAddress, genSigner, nil, "true"); err != nil {
		t.Errorf("ssh with nova's generated key to the server on the reused port: %v", err)
	}
	if err := keypairs.Delete(ctx, tc.compute, "generated", nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.Delete(ctx, tc.compute, s2.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, s2.ID).Extract(); return err })
	if err := ports.Delete(ctx, tc.network, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

// TestFaultsAndScheduling: injected API faults, ERROR servers, anti-affinity
// against the simulated hypervisors, admin power-off.
func TestFaultsAndScheduling(t *testing.T) {
	tc := startCloud(t, func(c *Config) { c.Hypervisors = 2 })
	ctx := context.Background()
	fx := tc.fixture(ctx)

	tc.admin("POST", "/faults", map[string]any{"method": "GET", "path_regex": "^/compute/v2.1/servers/detail$", "status": 503, "count": 2})
	for i := 0; i < 2; i++ {
		_, err := servers.List(tc.compute, nil).AllPages(ctx)
		var e gophercloud.ErrUnexpectedResponseCode
		if !errors.As(err, &e) || e.Actual != 503 || !strings.Contains(string(e.Body), "serviceUnavailable") {
			t.Errorf("injected 503 #%d: %v", i+1, err)
		}
	}
	if _, err := servers.List(tc.compute, nil).AllPages(ctx); err != nil {
		t.Errorf("after the injected faults: %v", err)
	}
	tc.admin("POST", "/faults", map[string]any{"method": "POST", "path_regex": "^/network/v2.0/ports$", "status": 429, "retry_after": 7})
	code, hdr, b := tc.rawDo("POST", "/network/v2.0/ports", map[string]any{"port": map[string]any{"network_id": tc.NetworkID()}}, nil)
	if code != 429 || hdr.Get("Retry-After") != "7" || obj(decode(t, b), "NeutronError") == nil {
		t.Errorf("injected 429: %d %v %s", code, hdr.Get("Retry-After"), b)
	}

	// Slow transitions: a volume stays "creating" while the step is long.
	tc.admin("POST", "/delay", map[string]any{"step_ms": 1500})
	code, _, b = tc.rawDo("POST", "/volume/v3/"+projectID(t, tc)+"/volumes", map[string]any{"volume": map[string]any{"size": 1}}, nil)
	if code != 202 {
		t.Fatalf("create volume: %d %s", code, b)
	}
	vid := obj(decode(t, b), "volume")["id"].(string)
	time.Sleep(300 * time.Millisecond)
	if _, _, b := tc.rawDo("GET", "/volume/v3/"+projectID(t, tc)+"/volumes/"+vid, nil, nil); obj(decode(t, b), "volume")["status"] != "creating" {
		t.Errorf("with a 1.5 s step, the volume is past creating after 300 ms: %s", b)
	}
	tc.admin("POST", "/delay", map[string]any{"step_ms": 0})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, b := tc.rawDo("GET", "/volume/v3/"+projectID(t, tc)+"/volumes/"+vid, nil, nil)
		if obj(decode(t, b), "volume")["status"] == "available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume never available: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, b := tc.rawDo("DELETE", "/volume/v3/"+projectID(t, tc)+"/volumes/"+vid, nil, nil); code != 202 {
		t.Errorf("delete volume: %d %s", code, b)
	}

	tc.admin("POST", "/next-server-error", map[string]any{"count": 1})
	bad := tc.createServer(ctx, fx, "doomed", nil)
	s := tc.waitServer(bad, "ERROR")
	if s.Fault.Code != 500 || s.Fault.Message == "" {
		t.Errorf("fault of an injected ERROR: %+v", s.Fault)
	}
	// Never scheduled, so no host: nova answers the console 409 InstanceNotReady.
	code, _, b = tc.rawDo("POST", "/compute/v2.1/servers/"+bad+"/action", map[string]any{"os-getConsoleOutput": map[string]any{}}, nil)
	if want := "Instance " + bad + " is not ready"; code != 409 || obj(decode(t, b), "conflictingRequest")["message"] != want {
		t.Errorf("console of a server without a host: %d %s, want 409 %q", code, b, want)
	}

	c264 := *tc.compute
	c264.Microversion = "2.64"
	g, err := servergroups.Create(ctx, &c264, servergroups.CreateOpts{Name: "ha", Policy: "anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range []string{"m1", "m2", "m3"} {
		s, err := servers.Create(ctx, tc.compute, keypairs.CreateOptsExt{KeyName: fx.keyName, CreateOptsBuilder: servers.CreateOpts{
			Name: n, FlavorRef: "1", ImageRef: glance.TheImage().ID, Networks: []servers.Network{{UUID: tc.NetworkID()}}}},
			servers.SchedulerHintOpts{Group: g.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
		time.Sleep(20 * time.Millisecond)
	}
	statuses := map[string]int{}
	hosts := map[string]bool{}
	for _, id := range ids {
		deadline := time.Now().Add(60 * time.Second)
		for {
			s, err := servers.Get(ctx, tc.compute, id).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if s.Status == "ACTIVE" || s.Status == "ERROR" {
				statuses[s.Status]++
				if s.Status == "ERROR" && !strings.Contains(s.Fault.Message, "No valid host was found") {
					t.Errorf("fault = %q", s.Fault.Message)
				}
				if s.Status == "ACTIVE" {
					hosts[s.HostID] = true
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %s stuck in %s", id, s.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if statuses["ACTIVE"] != 2 || statuses["ERROR"] != 1 || len(hosts) != 2 {
		t.Errorf("anti-affinity over 2 hypervisors: %v on %d hosts, want 2 ACTIVE on 2 hosts and 1 ERROR", statuses, len(hosts))
	}
	grp, _ := servergroups.Get(ctx, &c264, g.ID).Extract()
	if len(grp.Members) != 3 {
		t.Errorf("group members = %v", grp.Members)
	}

	// Power off behind nova's back: SHUTOFF; power on: ACTIVE.
	var active string
	for _, id := range ids {
		if s, _ := servers.Get(ctx, tc.compute, id).Extract(); s.Status == "ACTIVE" {
			active = id
		}
	}
	tc.admin("POST", "/servers/"+active+"/poweroff", nil)
	tc.waitServer(active, "SHUTOFF")
	tc.admin("POST", "/servers/"+active+"/poweron", nil)
	tc.waitServer(active, "ACTIVE")
	// A host that stops behind the API's back is found by the power sync.
	tc.Mu.Lock()
	h := tc.Hosts[active]
	tc.Mu.Unlock()
	if err := h.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(active, "SHUTOFF")
	if err := servers.Start(ctx, tc.compute, active).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(active, "ACTIVE")

	for _, id := range append(ids, bad) {
		if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range append(ids, bad) {
		waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
	}
	if err := servergroups.Delete(ctx, tc.compute, g.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

// TestRestart: identity, keypairs and groups survive a restart; a state
// file that still lists servers is refused with the clean-up advice.
func TestRestart(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	ctx := context.Background()
	start := func() (*Cloud, error) {
		return Start(ctx, Config{StateDir: filepath.Join(dir, "state"), NetPrefix: "lcr", StepDelay: 20 * time.Millisecond})
	}
	c, err := start()
	if err != nil {
		t.Fatal(err)
	}
	_, pass1, _, _ := c.Credentials()
	tc := &testCloud{Cloud: c, t: t}
	tc.provider = tc.authenticate(ctx)
	tc.compute, _ = openstack.NewComputeV2(tc.provider, gophercloud.EndpointOpts{})
	_, pub := newKey(t)
	if _, err := keypairs.Create(ctx, tc.compute, keypairs.CreateOpts{Name: "survivor", PublicKey: pub}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = start()
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	_, pass2, _, _ := c.Credentials()
	if pass1 != pass2 {
		t.Errorf("password changed across restart")
	}
	tc = &testCloud{Cloud: c, t: t}
	tc.provider = tc.authenticate(ctx)
	tc.compute, _ = openstack.NewComputeV2(tc.provider, gophercloud.EndpointOpts{})
	if _, err := keypairs.Get(ctx, tc.compute, "survivor", nil).Extract(); err != nil {
		t.Errorf("keypair after restart: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash leaves servers in the state file: refuse, and say how to clean up.
	path := filepath.Join(dir, "state", state.FileName)
	st, err := state.Load(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	st.Servers["x"] = &state.Server{ID: "x", Name: "orphan"}
	if err := state.Save(filepath.Join(dir, "state"), st); err != nil {
		t.Fatal(err)
	}
	_, err = start()
	if !errors.Is(err, ErrStaleState) || !strings.Contains(err.Error(), "localcloud-down") {
		t.Errorf("start over stale state: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", info, err)
	}
}

// TestLoadBalancerThroughCloud: a load balancer on the cloud's subnet comes
// up through the catalogue endpoint and goes away with the cloud's reset.
func TestLoadBalancerThroughCloud(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	lb, err := loadbalancers.Create(ctx, tc.lb, loadbalancers.CreateOpts{Name: "db-lb", VipSubnetID: tc.SubnetID()}).Extract()
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := loadbalancers.Get(ctx, tc.lb, lb.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if got.ProvisioningStatus == "ACTIVE" {
			if !tc.Network().Subnet().Contains(netip.MustParseAddr(got.VipAddress)) {
				t.Errorf("VIP %s outside the subnet %s", got.VipAddress, tc.Network().Subnet())
			}
			break
		}
		if got.ProvisioningStatus == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("load balancer %s", got.ProvisioningStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, err = loadbalancers.Create(ctx, tc.lb, loadbalancers.CreateOpts{Name: "elsewhere", VipSubnetID: core.NewUUID()}).Extract()
	if err == nil {
		t.Errorf("load balancer on an unknown subnet was accepted")
	}
	if inv := tc.Inventory(); len(inv.LoadBalancers) != 1 {
		t.Errorf("inventory load balancers = %+v", inv.LoadBalancers)
	}
	if err := tc.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	tc.assertEmpty()
}

// TestTokenExpiry: an expired token gets 401; gophercloud re-authenticates.
func TestTokenExpiry(t *testing.T) {
	tc := startCloud(t, func(c *Config) { c.TokenTTL = 700 * time.Millisecond })
	ctx := context.Background()
	old := tc.provider.Token()
	time.Sleep(time.Second)
	code, _, b := tc.rawDo("GET", "/compute/v2.1/flavors", nil, map[string]string{"X-Auth-Token": old})
	if code != 401 || obj(decode(t, b), "error") == nil {
		t.Errorf("expired token: %d %s, want 401", code, b)
	}
	if _, err := flavors.ListDetail(tc.compute, nil).AllPages(ctx); err != nil {
		t.Errorf("gophercloud after expiry: %v", err)
	}
	if tc.provider.Token() == old {
		t.Errorf("gophercloud did not get a new token")
	}
}
