package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// privateHostKeys is the private-state key of the verified SSH host keys:
// recorded at create, they let every later SSH connection verify the servers.
const privateHostKeys = "host_keys"

// saveHostKeys records the verified host keys in private state.
func saveHostKeys(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, keys map[string]string) diag.Diagnostics {
	if len(keys) == 0 {
		return nil
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return diag.Diagnostics{saveHostKeysFailed(err)}
	}
	return p.SetKey(ctx, privateHostKeys, b)
}

// loadHostKeys returns the host keys saveHostKeys recorded (none before the
// first create, e.g. after an import).
func loadHostKeys(ctx context.Context, p interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) (map[string]string, diag.Diagnostics) {
	b, diags := p.GetKey(ctx, privateHostKeys)
	if diags.HasError() || len(b) == 0 {
		return nil, diags
	}
	keys := map[string]string{}
	if err := json.Unmarshal(b, &keys); err != nil {
		diags.Append(loadHostKeysFailed(err))
	}
	return keys, diags
}
