package provider

import (
	"fmt"
	"os"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// defaultMaxRetries is used when neither max_retries nor OS_MAX_RETRIES is set.
const defaultMaxRetries = 5

// providerModel is the provider block.
type providerModel struct {
	Cloud                       types.String `tfsdk:"cloud"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	Region                      types.String `tfsdk:"region"`
	UserName                    types.String `tfsdk:"user_name"`
	UserID                      types.String `tfsdk:"user_id"`
	Password                    types.String `tfsdk:"password"`
	Token                       types.String `tfsdk:"token"`
	TenantName                  types.String `tfsdk:"tenant_name"`
	TenantID                    types.String `tfsdk:"tenant_id"`
	ProjectName                 types.String `tfsdk:"project_name"`
	ProjectID                   types.String `tfsdk:"project_id"`
	UserDomainName              types.String `tfsdk:"user_domain_name"`
	UserDomainID                types.String `tfsdk:"user_domain_id"`
	ProjectDomainName           types.String `tfsdk:"project_domain_name"`
	ProjectDomainID             types.String `tfsdk:"project_domain_id"`
	DomainName                  types.String `tfsdk:"domain_name"`
	DomainID                    types.String `tfsdk:"domain_id"`
	DefaultDomain               types.String `tfsdk:"default_domain"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialName   types.String `tfsdk:"application_credential_name"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	Insecure                    types.Bool   `tfsdk:"insecure"`
	CACertFile                  types.String `tfsdk:"cacert_file"`
	Cert                        types.String `tfsdk:"cert"`
	Key                         types.String `tfsdk:"key"`
	EndpointType                types.String `tfsdk:"endpoint_type"`
	EndpointOverrides           types.Map    `tfsdk:"endpoint_overrides"`
	MaxRetries                  types.Int64  `tfsdk:"max_retries"`
}

// stringSetting ties a string attribute to its environment variables and to
// the field of openstack.Config it fills.
type stringSetting struct {
	name  string
	env   []string
	value func(*providerModel) types.String
	set   func(*openstack.Config, string)
}

// stringSettings lists every string attribute with its OS_* defaults, in the
// order terraform-provider-openstack users know. The project_* attributes are
// aliases of tenant_* and share their variables.
var stringSettings = []stringSetting{
	{"cloud", []string{"OS_CLOUD"}, func(m *providerModel) types.String { return m.Cloud }, func(c *openstack.Config, v string) { c.Cloud = v }},
	{"auth_url", []string{"OS_AUTH_URL"}, func(m *providerModel) types.String { return m.AuthURL }, func(c *openstack.Config, v string) { c.AuthURL = v }},
	{"region", []string{"OS_REGION_NAME"}, func(m *providerModel) types.String { return m.Region }, func(c *openstack.Config, v string) { c.Region = v }},
	{"user_name", []string{"OS_USERNAME"}, func(m *providerModel) types.String { return m.UserName }, func(c *openstack.Config, v string) { c.UserName = v }},
	{"user_id", []string{"OS_USER_ID"}, func(m *providerModel) types.String { return m.UserID }, func(c *openstack.Config, v string) { c.UserID = v }},
	{"password", []string{"OS_PASSWORD"}, func(m *providerModel) types.String { return m.Password }, func(c *openstack.Config, v string) { c.Password = v }},
	{"token", []string{"OS_TOKEN", "OS_AUTH_TOKEN"}, func(m *providerModel) types.String { return m.Token }, func(c *openstack.Config, v string) { c.Token = v }},
	{"tenant_name", []string{"OS_TENANT_NAME", "OS_PROJECT_NAME"}, func(m *providerModel) types.String { return m.TenantName }, func(c *openstack.Config, v string) { c.ProjectName = v }},
	{"tenant_id", []string{"OS_TENANT_ID", "OS_PROJECT_ID"}, func(m *providerModel) types.String { return m.TenantID }, func(c *openstack.Config, v string) { c.ProjectID = v }},
	{"project_name", nil, func(m *providerModel) types.String { return m.ProjectName }, func(c *openstack.Config, v string) { c.ProjectName = v }},
	{"project_id", nil, func(m *providerModel) types.String { return m.ProjectID }, func(c *openstack.Config, v string) { c.ProjectID = v }},
	{"user_domain_name", []string{"OS_USER_DOMAIN_NAME"}, func(m *providerModel) types.String { return m.UserDomainName }, func(c *openstack.Config, v string) { c.UserDomainName = v }},
	{"user_domain_id", []string{"OS_USER_DOMAIN_ID"}, func(m *providerModel) types.String { return m.UserDomainID }, func(c *openstack.Config, v string) { c.UserDomainID = v }},
	{"project_domain_name", []string{"OS_PROJECT_DOMAIN_NAME"}, func(m *providerModel) types.String { return m.ProjectDomainName }, func(c *openstack.Config, v string) { c.ProjectDomainName = v }},
	{"project_domain_id", []string{"OS_PROJECT_DOMAIN_ID"}, func(m *providerModel) types.String { return m.ProjectDomainID }, func(c *openstack.Config, v string) { c.ProjectDomainID = v }},
	{"domain_name", []string{"OS_DOMAIN_NAME"}, func(m *providerModel) types.String { return m.DomainName }, func(c *openstack.Config, v string) { c.DomainName = v }},
	{"domain_id", []string{"OS_DOMAIN_ID"}, func(m *providerModel) types.String { return m.DomainID }, func(c *openstack.Config, v string) { c.DomainID = v }},
	{"default_domain", []string{"OS_DEFAULT_DOMAIN"}, func(m *providerModel) types.String { return m.DefaultDomain }, func(c *openstack.Config, v string) { c.DefaultDomain = v }},
	{"application_credential_id", []string{"OS_APPLICATION_CREDENTIAL_ID"}, func(m *providerModel) types.String { return m.ApplicationCredentialID }, func(c *openstack.Config, v string) { c.ApplicationCredentialID = v }},
	{"application_credential_name", []string{"OS_APPLICATION_CREDENTIAL_NAME"}, func(m *providerModel) types.String { return m.ApplicationCredentialName }, func(c *openstack.Config, v string) { c.ApplicationCredentialName = v }},
	{"application_credential_secret", []string{"OS_APPLICATION_CREDENTIAL_SECRET"}, func(m *providerModel) types.String { return m.ApplicationCredentialSecret }, func(c *openstack.Config, v string) { c.ApplicationCredentialSecret = v }},
	{"cacert_file", []string{"OS_CACERT"}, func(m *providerModel) types.String { return m.CACertFile }, func(c *openstack.Config, v string) { c.CACertFile = v }},
	{"cert", []string{"OS_CERT"}, func(m *providerModel) types.String { return m.Cert }, func(c *openstack.Config, v string) { c.ClientCert = v }},
	{"key", []string{"OS_KEY"}, func(m *providerModel) types.String { return m.Key }, func(c *openstack.Config, v string) { c.ClientKey = v }},
	{"endpoint_type", []string{"OS_ENDPOINT_TYPE", "OS_INTERFACE"}, func(m *providerModel) types.String { return m.EndpointType }, func(c *openstack.Config, v string) { c.EndpointType = v }},
}

// envNames lists the variables of an attribute, for messages and docs.
func envNames(attr string) []string {
	for _, s := range stringSettings {
		if s.name == attr {
			return s.env
		}
	}
	switch attr {
	case "insecure":
		return []string{"OS_INSECURE"}
	case "max_retries":
		return []string{"OS_MAX_RETRIES"}
	}
	return nil
}

// origin says where a setting's value came from.
type origin struct {
	attr string // attribute set in the configuration, or ""
	env  string // variable the value was taken from, or ""
}

func (o origin) set() bool { return o.attr != "" || o.env != "" }

// describe names the source for a message: `password` or `OS_PASSWORD`.
func (o origin) describe() string {
	if o.attr != "" {
		return fmt.Sprintf("%q", o.attr)
	}
	return o.env
}

// resolvedConfig is the provider block with environment defaults applied.
type resolvedConfig struct {
	Config  openstack.Config
	Origins map[string]origin // by attribute name; absent: not set anywhere
}

// lookupEnv returns the first non-empty variable of names.
func lookupEnv(names []string) (string, string) {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

// resolve applies the OS_* defaults to the provider block: an attribute set
// in the configuration wins, then its environment variables; clouds.yaml
// fills what is still empty later, when the cloud is first needed. With
// strict, unknown values are errors (credentials cannot wait for another
// resource); without, they count as not set (for validation).
func (m *providerModel) resolve(strict bool) (resolvedConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	r := resolvedConfig{Origins: map[string]origin{}}
	for _, s := range stringSettings {
		v := s.value(m)
		switch {
		case v.IsUnknown():
			if strict {
				diags.Append(unknownValueDiagnostic(s.name, s.env))
			}
		case !v.IsNull() && v.ValueString() != "":
			s.set(&r.Config, v.ValueString())
			r.Origins[s.name] = origin{attr: s.name}
		default:
			if ev, name := lookupEnv(s.env); ev != "" {
				s.set(&r.Config, ev)
				r.Origins[s.name] = origin{env: name}
			}
		}
	}

	switch {
	case m.Insecure.IsUnknown():
		if strict {
			diags.Append(unknownValueDiagnostic("insecure", envNames("insecure")))
		}
	case !m.Insecure.IsNull():
		b := m.Insecure.ValueBool()
		r.Config.Insecure = &b
		r.Origins["insecure"] = origin{attr: "insecure"}
	default:
		if ev := os.Getenv("OS_INSECURE"); ev != "" {
			b, err := strconv.ParseBool(ev)
			if err != nil {
				diags.Append(invalidInsecureEnvDiagnostic(ev))
			} else {
				r.Config.Insecure = &b
				r.Origins["insecure"] = origin{env: "OS_INSECURE"}
			}
		}
	}

	r.Config.MaxRetries = defaultMaxRetries
	switch {
	case m.MaxRetries.IsUnknown():
		if strict {
			diags.Append(unknownValueDiagnostic("max_retries", envNames("max_retries")))
		}
	case !m.MaxRetries.IsNull():
		r.Config.MaxRetries = int(m.MaxRetries.ValueInt64())
		r.Origins["max_retries"] = origin{attr: "max_retries"}
	default:
		if ev := os.Getenv("OS_MAX_RETRIES"); ev != "" {
			n, err := strconv.Atoi(ev)
			if err != nil || n < 0 {
				diags.Append(invalidMaxRetriesEnvDiagnostic(ev))
			} else {
				r.Config.MaxRetries = n
				r.Origins["max_retries"] = origin{env: "OS_MAX_RETRIES"}
			}
		}
	}

	switch {
	case m.EndpointOverrides.IsUnknown():
		if strict {
			diags.Append(unknownValueDiagnostic("endpoint_overrides", nil))
		}
	case !m.EndpointOverrides.IsNull():
		overrides := map[string]string{}
		for k, v := range m.EndpointOverrides.Elements() {
			s, ok := v.(types.String)
			if !ok || s.IsUnknown() {
				if strict {
					diags.Append(unknownValueDiagnostic("endpoint_overrides", nil))
				}
				continue
			}
			overrides[k] = s.ValueString()
		}
		r.Config.EndpointOverrides = overrides
		r.Origins["endpoint_overrides"] = origin{attr: "endpoint_overrides"}
	}
	return r, diags
}

// conflicts reports settings that cannot go together once environment
// defaults are applied. Pairs where both sides are set in the configuration
// are left to the schema validators, which already name both attributes.
func (r resolvedConfig) conflicts() diag.Diagnostics {
	var diags diag.Diagnostics
	pw, tok := r.Origins["password"], r.Origins["token"]
	if pw.set() && tok.set() && (pw.attr == "" || tok.attr == "") {
		at := "password"
		if pw.attr == "" && tok.attr != "" {
			at = "token"
		}
		diags.Append(conflictingCredentialsDiagnostic(at, pw.describe(), tok.describe()))
	}
	appCred := r.Origins["application_credential_id"]
	if !appCred.set() {
		appCred = r.Origins["application_credential_name"]
	}
	if appCred.set() && pw.set() {
		diags.Append(conflictingApplicationCredentialDiagnostic(appCred.describe(), pw.describe()))
	}
	cert, key := r.Origins["cert"], r.Origins["key"]
	if cert.set() != key.set() {
		at, have, missing := "cert", cert, "key (OS_KEY)"
		if key.set() {
			at, have, missing = "key", key, "cert (OS_CERT)"
		}
		diags.Append(incompleteClientCertificateDiagnostic(at, have.describe(), missing))
	}
	return diags
}

// localProblems reads what authentication will read on the first cloud
// call, the clouds.yaml entry and the certificate files, so that a missing
// cloud or file is reported on the provider block instead of on the first
// resource that needs the cloud. It makes no network call.
func (r resolvedConfig) localProblems() diag.Diagnostics {
	var diags diag.Diagnostics
	base := r.Config
	base.CACertFile, base.ClientCert, base.ClientKey = "", "", ""
	if _, err := base.Resolve(); err != nil {
		if r.Config.Cloud != "" {
			diags.Append(unreadableCloudDiagnostic(r.Origins["cloud"].describe(), r.Config.Cloud, err))
		}
		return diags // anything else is the client's to report
	}
	files := []struct {
		attr string
		set  func(*openstack.Config)
	}{
		{"cacert_file", func(c *openstack.Config) { c.CACertFile = r.Config.CACertFile }},
		{"cert", func(c *openstack.Config) { c.ClientCert, c.ClientKey = r.Config.ClientCert, r.Config.ClientKey }},
	}
	for _, f := range files {
		o := r.Origins[f.attr]
		if !o.set() {
			continue
		}
		c := base
		f.set(&c)
		if _, err := c.Resolve(); err != nil {
			diags.Append(unreadableCertificateDiagnostic(f.attr, o.describe(), err))
		}
	}
	return diags
}
