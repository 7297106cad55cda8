package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

var uuidRegexp = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// clusterManager gives a resource the cluster layer over the provider's
// (lazily authenticated) cloud client.
func clusterManager(ctx context.Context, data *ProviderData) (*cluster.Manager, error) {
	if data == nil || data.Client == nil {
		return nil, errors.New("the provider is not configured")
	}
	return cluster.NewManager(data.Client, tflogLogger{}), nil
}

// createFailed names the phase and node that failed and says how to clean up.
func createFailed(name string, c *cluster.Cluster, err error) diag.Diagnostics {
	var d diag.Diagnostics
	summary := "Error Creating Cluster"
	var pe *cluster.PhaseError
	where := ""
	if errors.As(err, &pe) {
		summary = "Cluster Create Failed In Phase " + titleCase(pe.Phase)
		where = " in phase " + pe.Phase
		if pe.Node != "" {
			where += " on node " + pe.Node
		}
	}
	cleanup := "Nothing was created in the cloud."
	if c != nil && c.ID != "" {
		cleanup = fmt.Sprintf("The partly built cluster %s is recorded in state and marked tainted: the next `terraform apply` deletes and recreates it, and `terraform destroy` removes everything it made.", c.ID)
	}
	var ae *openstack.AuthError
	var sm *openstack.ServiceMissingError
	if errors.As(err, &ae) || errors.As(err, &sm) {
		d.Append(openStackErrorDiagnostic(fmt.Sprintf("create cluster %q%s", name, where), err))
		d.AddWarning("Cleanup", cleanup)
		return d
	}
	d.AddError(summary, fmt.Sprintf("While creating cluster %q%s: %v\n\n%s", name, where, err, cleanup))
	return d
}

func titleCase(s string) string {
	words := strings.Fields(strings.ReplaceAll(s, "_", " "))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
