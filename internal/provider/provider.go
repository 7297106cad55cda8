package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

var (
	_ provider.Provider                       = (*pxcProvider)(nil)
	_ provider.ProviderWithValidateConfig     = (*pxcProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*pxcProvider)(nil)
)

// New returns a factory for the pxc provider, as providerserver.Serve and the
// acceptance tests expect.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &pxcProvider{version: version}
	}
}

type pxcProvider struct {
	version string
	// newClient builds the OpenStack client; tests replace it.
	newClient func(openstack.Config) (*openstack.Client, error)
}

func (p *pxcProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pxc"
	resp.Version = p.version
}

// described builds a description that names the attribute's environment
// variables, so docs and the schema agree with the code.
func described(attr, text string) string {
	if env := envNames(attr); len(env) > 0 {
		quoted := make([]string, len(env))
		for i, e := range env {
			quoted[i] = "`" + e + "`"
		}
		return fmt.Sprintf("%s Default: the environment variable %s.", text, strings.Join(quoted, ", then "))
	}
	return text
}

func optionalString(attr, text string, validators ...validator.String) schema.StringAttribute {
	return schema.StringAttribute{Optional: true, MarkdownDescription: described(attr, text), Validators: validators}
}

func sensitiveString(attr, text string, validators ...validator.String) schema.StringAttribute {
	a := optionalString(attr, text, validators...)
	a.Sensitive = true
	return a
}

func (p *pxcProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	root := path.MatchRoot
	resp.Schema = schema.Schema{
		MarkdownDescription: "The pxc provider creates highly available Percona XtraDB Cluster / MariaDB Galera " +
			"clusters on OpenStack that are really up, Synced and behind a load balancer when `terraform apply` " +
			"says created. Its settings follow the OpenStack provider's, so `clouds.yaml` and `OS_*` variables work " +
			"unchanged. Every setting is optional here: the provider authenticates only when a resource first needs " +
			"the cloud, so `terraform validate` and plans without resources need no credentials.",
		Attributes: map[string]schema.Attribute{
			"cloud":     optionalString("cloud", "Name of an entry in `clouds.yaml` (found through `OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml` or `/etc/openstack/clouds.yaml`). Settings given here or through `OS_*` variables win over the file."),
			"auth_url":  optionalString("auth_url", "Identity (Keystone) endpoint, e.g. `https://keystone.example.com:5000/v3`.", urlWithScheme()),
			"region":    optionalString("region", "Region to take service endpoints from."),
			"user_name": optionalString("user_name", "User name to log in with."),
			"user_id":   optionalString("user_id", "User id to log in with."),
			"password": sensitiveString("password", "Password of the user.",
				stringvalidator.ConflictsWith(root("token"))),
			"token": sensitiveString("token", "An existing token to use instead of a password. It is not renewed when it expires.",
				stringvalidator.ConflictsWith(root("password"))),
			"tenant_name": optionalString("tenant_name", "Project (tenant) name to scope to.",
				stringvalidator.ConflictsWith(root("project_name"))),
			"tenant_id": optionalString("tenant_id", "Project (tenant) id to scope to.",
				stringvalidator.ConflictsWith(root("project_id"))),
			"project_name":                  optionalString("project_name", "Alias of `tenant_name`. Default: the environment variables of `tenant_name`."),
			"project_id":                    optionalString("project_id", "Alias of `tenant_id`. Default: the environment variables of `tenant_id`."),
			"user_domain_name":              optionalString("user_domain_name", "Domain name of the user."),
			"user_domain_id":                optionalString("user_domain_id", "Domain id of the user."),
			"project_domain_name":           optionalString("project_domain_name", "Domain name of the project."),
			"project_domain_id":             optionalString("project_domain_id", "Domain id of the project."),
			"domain_name":                   optionalString("domain_name", "Domain name used for the user and the project when their own domain is not given, or to scope to a domain."),
			"domain_id":                     optionalString("domain_id", "Domain id used for the user and the project when their own domain is not given, or to scope to a domain."),
			"default_domain":                optionalString("default_domain", "Domain id assumed for a user or project named without a domain (`default` if unset)."),
			"application_credential_id":     optionalString("application_credential_id", "Application credential id to log in with (instead of a user and password)."),
			"application_credential_name":   optionalString("application_credential_name", "Application credential name; needs `user_name` or `user_id`."),
			"application_credential_secret": sensitiveString("application_credential_secret", "Secret of the application credential."),
			"insecure": schema.BoolAttribute{Optional: true, MarkdownDescription: described("insecure",
				"Skip verification of the cloud's TLS certificates. Only for test clouds.")},
			"cacert_file": optionalString("cacert_file", "CA certificate bundle to verify the cloud's TLS certificates: a file path or the PEM text itself."),
			"cert":        optionalString("cert", "TLS client certificate: a file path or the PEM text. Needs `key`."),
			"key":         sensitiveString("key", "Private key of the TLS client certificate: a file path or the PEM text. Needs `cert`."),
			"endpoint_type": optionalString("endpoint_type", "Catalog interface to use: `public`, `internal` or `admin` (the `...URL` forms are accepted).",
				stringvalidator.OneOf("public", "publicURL", "internal", "internalURL", "admin", "adminURL")),
			"endpoint_overrides": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Per service (`compute`, `block-storage` or `volumev3`, `network`, `load-balancer`, `image`): " +
					"either a URL used instead of the catalog (the full versioned base, e.g. `http://10.0.0.1:9696/v2.0/`), " +
					"or another catalog service type to look up.",
				Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.OneOf(
					"compute", "block-storage", "volumev3", "network", "load-balancer", "image"))},
			},
			"max_retries": schema.Int64Attribute{Optional: true, MarkdownDescription: described("max_retries",
				fmt.Sprintf("How often a request answered 429, 502, 503 or 504 is retried, with exponential backoff honouring `Retry-After` (%d if unset; `0` disables retries).", defaultMaxRetries)),
				Validators: []validator.Int64{int64validator.AtLeast(0)}},
		},
	}
}

// ValidateConfig rejects combinations the schema validators cannot see
// because one side comes from an environment variable.
func (p *pxcProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Unknown values are allowed while validating; Configure rejects them.
	r, diags := m.resolve(false)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(r.conflicts()...)
}

func (p *pxcProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r, diags := m.resolve(true)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(r.conflicts()...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.localProblems()...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.Config.UserAgent = "terraform-provider-pxc/" + p.version
	newClient := p.newClient
	if newClient == nil {
		newClient = newCloudClient
	}
	client, err := newClient(r.Config)
	if err != nil {
		resp.Diagnostics.Append(invalidConfigDiagnostic(err))
		return
	}
	tflog.Debug(ctx, "Configured the pxc provider; OpenStack authentication waits for the first call that needs it", map[string]any{
		"auth_url": r.Config.AuthURL, "cloud": r.Config.Cloud, "region": r.Config.Region, "max_retries": r.Config.MaxRetries,
	})
	data := &ProviderData{Client: client, Version: p.version}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
}

// Resources lists the resources.
func (p *pxcProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewClusterResource, NewLBPoolResource, NewNodeResource, NewBackupResource}
}

// DataSources lists the data sources.
func (p *pxcProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewClusterDataSource, NewClustersDataSource, NewBackupsDataSource}
}

// EphemeralResources lists the ephemeral resources.
func (p *pxcProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{NewCredentialsEphemeral}
}
