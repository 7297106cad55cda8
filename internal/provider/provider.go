package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*pxcProvider)(nil)

// New returns a factory for the pxc provider, as providerserver.Serve and the
// acceptance tests expect.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &pxcProvider{version: version}
	}
}

type pxcProvider struct {
	version string
}

func (p *pxcProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pxc"
	resp.Version = p.version
}

func (p *pxcProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{}
}

func (p *pxcProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *pxcProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *pxcProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
