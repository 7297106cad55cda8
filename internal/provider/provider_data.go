package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// ProviderData is what Configure hands to every resource and data source.
// The client has not authenticated yet: the first call that needs the cloud
// does, and a failure comes back from that call (turn it into a diagnostic
// with openStackErrorDiagnostic).
type ProviderData struct {
	Client  *openstack.Client
	Version string
}

// providerDataFrom is what a resource's or data source's Configure calls with
// req.ProviderData. A nil value is normal (the framework calls Configure
// before the provider is configured, e.g. during validation): it returns nil
// and no diagnostics, and the caller must then do nothing.
func providerDataFrom(v any) (*ProviderData, diag.Diagnostics) {
	var diags diag.Diagnostics
	if v == nil {
		return nil, diags
	}
	d, ok := v.(*ProviderData)
	if !ok || d == nil {
		diags.Append(unexpectedProviderDataDiagnostic(v))
		return nil, diags
	}
	return d, diags
}

// resourceBase is embedded by every resource: it keeps the provider data
// Configure hands over (nil until the provider is configured).
type resourceBase struct {
	data *ProviderData
}

func (b *resourceBase) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	b.data = data
}
