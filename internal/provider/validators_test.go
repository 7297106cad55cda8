package provider

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ssh.host_key_timeout and ssh.connect_timeout take a duration above zero.
func TestPositiveDuration(t *testing.T) {
	at := path.Root("ssh").AtName("host_key_timeout")
	for value, ok := range map[string]bool{"5m": true, "90s": true, "1h30m": true, "0s": false, "-1m": false, "5": false, "soon": false} {
		var resp validator.StringResponse
		positiveDuration().ValidateString(context.Background(), validator.StringRequest{Path: at, ConfigValue: types.StringValue(value)}, &resp)
		if resp.Diagnostics.HasError() == ok {
			t.Errorf("%q: diagnostics %v, want ok=%v", value, resp.Diagnostics, ok)
		}
	}
	var diags diag.Diagnostics
	if d := parseWaitBound(types.StringValue("90s"), at, &diags); d != 90*time.Second || diags.HasError() {
		t.Errorf("90s parsed as %s, %v", d, diags)
	}
	if d := parseWaitBound(types.StringNull(), at, &diags); d != 0 || diags.HasError() {
		t.Errorf("null parsed as %s, %v", d, diags)
	}
}
