package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var uuidRegexp = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// clusterManager gives a resource the cluster layer over the provider's
// (lazily authenticated) cloud client. Without a configured provider it
// reports why into diags and returns nil; action completes "While
// attempting to ...".
func clusterManager(data *ProviderData, action string, diags *diag.Diagnostics) *cluster.Manager {
	if data == nil || data.Client == nil {
		diags.Append(providerNotConfiguredDiagnostic(action))
		return nil
	}
	return cluster.NewManager(data.Client, tflogLogger{})
}
