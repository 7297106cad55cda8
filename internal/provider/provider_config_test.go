package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestEnvironmentDefaults(t *testing.T) {
	clearOSEnv(t)
	env := map[string]string{
		"OS_AUTH_URL": "http://keystone.test:5000/v3", "OS_REGION_NAME": "RegionOne", "OS_USERNAME": "alice",
		"OS_USER_ID": "uid", "OS_PASSWORD": "pw", "OS_PROJECT_NAME": "demo", "OS_PROJECT_ID": "pid",
		"OS_USER_DOMAIN_NAME": "Default", "OS_USER_DOMAIN_ID": "udid", "OS_PROJECT_DOMAIN_NAME": "PD",
		"OS_PROJECT_DOMAIN_ID": "pdid", "OS_DOMAIN_NAME": "D", "OS_DOMAIN_ID": "did", "OS_DEFAULT_DOMAIN": "dd",
		"OS_APPLICATION_CREDENTIAL_ID": "acid", "OS_APPLICATION_CREDENTIAL_NAME": "acn",
		"OS_APPLICATION_CREDENTIAL_SECRET": "acs", "OS_INSECURE": "true", "OS_CACERT": "/ca.pem",
		"OS_CERT": "/c.pem", "OS_KEY": "/k.pem", "OS_INTERFACE": "internal", "OS_MAX_RETRIES": "7", "OS_CLOUD": "lab",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var m providerModel
	r, diags := m.resolve(true)
	if diags.HasError() {
		t.Fatal(diags)
	}
	c := r.Config
	got := map[string]string{
		"auth_url": c.AuthURL, "region": c.Region, "user_name": c.UserName, "user_id": c.UserID, "password": c.Password,
		"project_name": c.ProjectName, "project_id": c.ProjectID, "user_domain_name": c.UserDomainName,
		"user_domain_id": c.UserDomainID, "project_domain_name": c.ProjectDomainName, "project_domain_id": c.ProjectDomainID,
		"domain_name": c.DomainName, "domain_id": c.DomainID, "default_domain": c.DefaultDomain,
		"application_credential_id": c.ApplicationCredentialID, "application_credential_name": c.ApplicationCredentialName,
		"application_credential_secret": c.ApplicationCredentialSecret, "cacert_file": c.CACertFile, "cert": c.ClientCert,
		"key": c.ClientKey, "endpoint_type": c.EndpointType, "cloud": c.Cloud,
	}
	want := map[string]string{
		"auth_url": "http://keystone.test:5000/v3", "region": "RegionOne", "user_name": "alice", "user_id": "uid",
		"password": "pw", "project_name": "demo", "project_id": "pid", "user_domain_name": "Default", "user_domain_id": "udid",
		"project_domain_name": "PD", "project_domain_id": "pdid", "domain_name": "D", "domain_id": "did", "default_domain": "dd",
		"application_credential_id": "acid", "application_credential_name": "acn", "application_credential_secret": "acs",
		"cacert_file": "/ca.pem", "cert": "/c.pem", "key": "/k.pem", "endpoint_type": "internal", "cloud": "lab",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if c.Insecure == nil || !*c.Insecure {
		t.Errorf("insecure = %v, want true", c.Insecure)
	}
	if c.MaxRetries != 7 {
		t.Errorf("max_retries = %d, want 7", c.MaxRetries)
	}
	if o := r.Origins["password"]; o.env != "OS_PASSWORD" || o.attr != "" {
		t.Errorf("password origin = %+v", o)
	}
}

func TestTokenEnvFallbackOrder(t *testing.T) {
	clearOSEnv(t)
	t.Setenv("OS_AUTH_TOKEN", "second")
	var m providerModel
	r, _ := m.resolve(true)
	if r.Config.Token != "second" {
		t.Fatalf("token = %q, want OS_AUTH_TOKEN's value", r.Config.Token)
	}
	t.Setenv("OS_TOKEN", "first")
	r, _ = m.resolve(true)
	if r.Config.Token != "first" {
		t.Fatalf("token = %q, want OS_TOKEN to win", r.Config.Token)
	}
}

func TestAttributesWinOverEnvironment(t *testing.T) {
	clearOSEnv(t)
	t.Setenv("OS_AUTH_URL", "http://from-env/v3")
	t.Setenv("OS_INSECURE", "true")
	t.Setenv("OS_MAX_RETRIES", "9")
	m := providerModel{
		AuthURL:    types.StringValue("http://from-config/v3"),
		Insecure:   types.BoolValue(false),
		MaxRetries: types.Int64Value(0),
		EndpointOverrides: types.MapValueMust(types.StringType, map[string]attr.Value{
			"load-balancer": types.StringValue("http://127.0.0.1:9876/v2.0/"),
		}),
	}
	r, diags := m.resolve(true)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if r.Config.AuthURL != "http://from-config/v3" || r.Config.Insecure == nil || *r.Config.Insecure || r.Config.MaxRetries != 0 {
		t.Errorf("config = %+v", r.Config)
	}
	if r.Config.EndpointOverrides["load-balancer"] != "http://127.0.0.1:9876/v2.0/" {
		t.Errorf("overrides = %v", r.Config.EndpointOverrides)
	}
}

func TestDefaultMaxRetries(t *testing.T) {
	clearOSEnv(t)
	var m providerModel
	r, _ := m.resolve(true)
	if r.Config.MaxRetries != defaultMaxRetries {
		t.Errorf("max_retries = %d, want %d", r.Config.MaxRetries, defaultMaxRetries)
	}
}

func TestBadEnvironmentValues(t *testing.T) {
	clearOSEnv(t)
	t.Setenv("OS_INSECURE", "maybe")
	t.Setenv("OS_MAX_RETRIES", "-2")
	var m providerModel
	_, diags := m.resolve(true)
	assertErrorAt(t, diags, path.Root("insecure"), "OS_INSECURE")
	assertErrorAt(t, diags, path.Root("max_retries"), "OS_MAX_RETRIES")
}

func TestUnknownValuesRejectedWhenConfiguring(t *testing.T) {
	clearOSEnv(t)
	m := providerModel{AuthURL: types.StringUnknown(), Insecure: types.BoolUnknown()}
	_, diags := m.resolve(true)
	assertErrorAt(t, diags, path.Root("auth_url"), "not known yet")
	assertErrorAt(t, diags, path.Root("insecure"), "not known yet")

	_, diags = m.resolve(false)
	if diags.HasError() {
		t.Errorf("validation must tolerate unknown values: %v", diags)
	}
}

func TestConflictsFromEnvironmentNameTheAttribute(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		model  providerModel
		at     path.Path
		detail []string
	}{
		{
			name:   "token in config, password in env",
			env:    map[string]string{"OS_PASSWORD": "pw"},
			model:  providerModel{Token: types.StringValue("tok")},
			at:     path.Root("token"),
			detail: []string{"OS_PASSWORD", `"token"`},
		},
		{
			name:   "both in env",
			env:    map[string]string{"OS_PASSWORD": "pw", "OS_AUTH_TOKEN": "tok"},
			at:     path.Root("password"),
			detail: []string{"OS_PASSWORD", "OS_AUTH_TOKEN"},
		},
		{
			name:   "cert without key",
			model:  providerModel{Cert: types.StringValue("/c.pem")},
			at:     path.Root("cert"),
			detail: []string{`"cert"`, "key (OS_KEY)"},
		},
		{
			name:   "key from env without cert",
			env:    map[string]string{"OS_KEY": "/k.pem"},
			at:     path.Root("key"),
			detail: []string{"OS_KEY", "cert (OS_CERT)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearOSEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r, diags := tc.model.resolve(true)
			if diags.HasError() {
				t.Fatal(diags)
			}
			assertErrorAt(t, r.conflicts(), tc.at, tc.detail...)
		})
	}

	t.Run("cert in config, key in env is fine", func(t *testing.T) {
		clearOSEnv(t)
		t.Setenv("OS_KEY", "/k.pem")
		m := providerModel{Cert: types.StringValue("/c.pem")}
		r, _ := m.resolve(true)
		if d := r.conflicts(); d.HasError() {
			t.Errorf("unexpected: %v", d)
		}
	})
}

func TestCloudsYAMLThroughProviderSettings(t *testing.T) {
	clearOSEnv(t)
	file := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(file, []byte(`clouds:
  lab:
    auth:
      auth_url: http://keystone.lab:5000/v3
      username: bob
      password: yaml-pw
      project_name: p
      user_domain_name: Default
      project_domain_name: Default
    region_name: LabRegion
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", file)
	t.Setenv("OS_CLOUD", "lab")
	var m providerModel
	r, diags := m.resolve(true)
	if diags.HasError() {
		t.Fatal(diags)
	}
	res, err := r.Config.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if res.Auth.IdentityEndpoint != "http://keystone.lab:5000/v3" || res.Auth.Username != "bob" || res.Endpoint.Region != "LabRegion" {
		t.Errorf("resolved auth %q user %q region %q", res.Auth.IdentityEndpoint, res.Auth.Username, res.Endpoint.Region)
	}

	// A region in the provider block wins over the file.
	m.Region = types.StringValue("Other")
	r, _ = m.resolve(true)
	res, err = r.Config.Resolve()
	if err != nil || res.Endpoint.Region != "Other" {
		t.Errorf("region = %q, %v", res.Endpoint.Region, err)
	}
}

// assertErrorAt checks that diags holds an error at the path whose detail
// contains every string of want.
func assertErrorAt(t *testing.T, diags diag.Diagnostics, at path.Path, want ...string) {
	t.Helper()
	for _, d := range diags.Errors() {
		wp, ok := d.(diag.DiagnosticWithPath)
		if !ok || !wp.Path().Equal(at) {
			continue
		}
		text := d.Summary() + "\n" + d.Detail()
		missing := false
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = true
			}
		}
		if !missing {
			return
		}
		t.Errorf("error at %s lacks %q:\n%s", at, want, text)
		return
	}
	t.Errorf("no error at %s in %v", at, diags)
}

// errorAt returns the first error diagnostic at p, or nil.
func errorAt(diags diag.Diagnostics, p path.Path) diag.Diagnostic {
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(p) {
			return d
		}
	}
	return nil
}

// Issue 10, defect 12: problems of the provider block are reported on it,
// at configure time, not by the first resource that needs the cloud.
func TestProviderProblemsAreReportedOnTheProviderBlock(t *testing.T) {
	dir := t.TempDir()
	cloudsYAML := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(cloudsYAML, []byte("clouds:\n  other:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		env     map[string]string
		set     map[string]any
		at      string
		mention []string
	}{
		{"unknown cloud", map[string]string{"OS_CLIENT_CONFIG_FILE": cloudsYAML}, map[string]any{"cloud": "nope"},
			"cloud", []string{`"nope"`, "clouds.yaml"}},
		{"unknown cloud from OS_CLOUD", map[string]string{"OS_CLIENT_CONFIG_FILE": cloudsYAML, "OS_CLOUD": "nope"}, nil,
			"cloud", []string{`"nope"`, "OS_CLOUD"}},
		{"missing CA file", nil, map[string]any{"auth_url": "https://127.0.0.1:1/v3", "cacert_file": filepath.Join(dir, "no-ca.pem")},
			"cacert_file", []string{"cacert_file", "no-ca.pem"}},
		{"missing CA file from OS_CACERT", map[string]string{"OS_CACERT": filepath.Join(dir, "no-ca.pem")}, map[string]any{"auth_url": "https://127.0.0.1:1/v3"},
			"cacert_file", []string{"OS_CACERT"}},
		{"application credential and password", nil, map[string]any{"auth_url": "http://127.0.0.1:1/v3",
			"application_credential_id": "ac", "application_credential_secret": "s", "password": "pw"},
			"password", []string{"Conflicting OpenStack Credentials", "application_credential_id", "password"}},
		{"application credential name and OS_PASSWORD", map[string]string{"OS_PASSWORD": "pw"}, map[string]any{"auth_url": "http://127.0.0.1:1/v3",
			"user_name": "u", "application_credential_name": "ac", "application_credential_secret": "s"},
			"password", []string{"application_credential_name", "OS_PASSWORD"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearOSEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, diags := configure(t, tc.set)
			d := errorAt(diags, path.Root(tc.at))
			if d == nil {
				t.Fatalf("no error at %s: %v", tc.at, diags)
			}
			for _, m := range tc.mention {
				if !strings.Contains(d.Summary()+" "+d.Detail(), m) {
					t.Errorf("diagnostic does not mention %s: %s: %s", m, d.Summary(), d.Detail())
				}
			}
		})
	}
	// A readable CA file and a known cloud configure.
	clearOSEnv(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", cloudsYAML)
	if _, diags := configure(t, map[string]any{"cloud": "other"}); diags.HasError() {
		t.Errorf("known cloud refused: %v", diags)
	}
}
