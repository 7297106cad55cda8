package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Without a configured provider the data source says so, rather than
// reporting an OpenStack API error.
func TestClustersDataSourceReportsProviderNotConfigured(t *testing.T) {
	ctx := context.Background()
	var sresp datasource.SchemaResponse
	(&clustersDataSource{}).Schema(ctx, datasource.SchemaRequest{}, &sresp)
	resp := &datasource.ReadResponse{State: tfsdk.State{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}}
	(&clustersDataSource{}).Read(ctx, datasource.ReadRequest{}, resp)
	errs := resp.Diagnostics.Errors()
	if len(errs) != 1 || errs[0].Summary() != "Provider Not Configured" || !strings.Contains(errs[0].Detail(), "While attempting to list the clusters") {
		t.Fatalf("got %v", resp.Diagnostics)
	}
}
