package provider

import (
	"bytes"
	"context"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"strings"
	"sync"
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

// The cluster layer reports progress from one goroutine per node; with
// secrets masked, unserialised tflog calls on one context crashed the
// provider (concurrent map iteration and map write); go test -race finds
// the race at once without the serialisation, a plain run only sometimes.
func TestProgressFromParallelGoroutines(t *testing.T) {
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	ctx = tflog.SetField(ctx, "tf_req_id", "req-1")
	ctx = maskSecrets(ctx, "secret-value-0123456789")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				tflogLogger{}.Progress(ctx, cluster.Event{Phase: "join", Node: "db-1", Message: "secret-value-0123456789 joined"})
				cloudLogger{}.Debug(ctx, "request", map[string]any{"password": "p"})
			}
		}()
	}
	wg.Wait()
	if strings.Contains(buf.String(), "secret-value-0123456789") {
		t.Error("a secret reached the log")
	}
}
