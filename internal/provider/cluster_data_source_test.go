package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Without a configured provider the lookup says so, rather than reporting
// an OpenStack API error.
func TestClusterDataSourceReportsProviderNotConfigured(t *testing.T) {
	ctx := context.Background()
	s := clusterDataSourceSchema()
	cfg := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	if d := cfg.SetAttribute(ctx, path.Root("name"), "demo"); d.HasError() {
		t.Fatal(d)
	}
	resp := &datasource.ReadResponse{State: tfsdk.State{Schema: s, Raw: cfg.Raw}}
	(&clusterDataSource{}).Read(ctx, datasource.ReadRequest{Config: tfsdk.Config{Schema: s, Raw: cfg.Raw}}, resp)
	errs := resp.Diagnostics.Errors()
	if len(errs) != 1 || errs[0].Summary() != "Provider Not Configured" || !strings.Contains(errs[0].Detail(), "While attempting to look up a cluster") {
		t.Fatalf("got %v", resp.Diagnostics)
	}
}
