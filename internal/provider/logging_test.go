package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// The OpenStack client's log reaches tflog with its fields, and a field
// named after a secret is masked.
func TestCloudLoggerBridgesToTflog(t *testing.T) {
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	cloudLogger{}.Debug(ctx, "OpenStack response", map[string]any{"url": "https://cloud/v3", "status": 201, "password": "pw-DO-NOT-LOG"})
	cloudLogger{}.Trace(ctx, "OpenStack response body", map[string]any{"token": "tok-DO-NOT-LOG"})
	out := buf.String()
	for _, want := range []string{"OpenStack response", "https://cloud/v3", "201", "OpenStack response body", `"@level":"trace"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"pw-DO-NOT-LOG", "tok-DO-NOT-LOG"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}
