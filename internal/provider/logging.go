package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The lower layers know no Terraform; these bridges carry their logs to
// tflog (honouring TF_LOG and TF_LOG_PROVIDER) with secrets masked.

// logMu serialises the bridges' tflog calls: with masking configured,
// tflog writes the masked values into the context's shared field map
// (terraform-plugin-log issue 246), and the lower layers log from parallel
// goroutines (one per node): a provider crashed with "concurrent map
// iteration and map write".
var logMu sync.Mutex

// tflogLogger bridges cluster progress to tflog: INFO per phase, WARN for
// what an operator should know.
type tflogLogger struct{}

func (tflogLogger) Progress(ctx context.Context, e cluster.Event) {
	fields := map[string]any{"phase": e.Phase}
	msg := e.Message
	if e.Node != "" {
		fields["node"] = e.Node
	}
	if e.Duration > 0 {
		fields["seconds"] = e.Duration.Seconds()
		// A roll's line says it inline ("Synced, 7.2s; 2 of 3 done").
		if took := e.Duration.Round(100 * time.Millisecond).String(); !strings.Contains(msg, took) {
			msg = fmt.Sprintf("%s, %s", msg, took)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	tflog.Info(ctx, msg, fields)
}

func (tflogLogger) Warn(ctx context.Context, msg string) {
	logMu.Lock()
	defer logMu.Unlock()
	tflog.Warn(ctx, msg)
}

// maskSecrets makes every log line of ctx hide these values, whichever
// library writes them.
func maskSecrets(ctx context.Context, secrets ...string) context.Context {
	var vals []string
	for _, s := range secrets {
		if s != "" {
			vals = append(vals, s)
			// A PEM key also appears line by line in some outputs.
			for _, line := range strings.Split(s, "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					vals = append(vals, line)
				}
			}
		}
	}
	if len(vals) == 0 {
		return ctx
	}
	return tflog.MaskAllFieldValuesStrings(tflog.MaskMessageStrings(ctx, vals...), vals...)
}

var _ openstack.Logger = cloudLogger{}

// cloudLogger bridges the OpenStack client's request log to tflog. The client
// already redacts headers and bodies and masks its configured secrets; the
// field-key mask is a second guard for any field that names a secret.
type cloudLogger struct{}

func (cloudLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	logMu.Lock()
	defer logMu.Unlock()
	tflog.Debug(maskSecretFields(ctx), msg, fields)
}

func (cloudLogger) Trace(ctx context.Context, msg string, fields map[string]any) {
	logMu.Lock()
	defer logMu.Unlock()
	tflog.Trace(maskSecretFields(ctx), msg, fields)
}

func maskSecretFields(ctx context.Context) context.Context {
	return tflog.MaskFieldValuesWithFieldKeys(ctx, "password", "token", "secret")
}

// newCloudClient is the OpenStack client the provider configures: logging
// through tflog.
func newCloudClient(cfg openstack.Config) (*openstack.Client, error) {
	return openstack.NewClient(cfg, openstack.WithLogger(cloudLogger{}))
}
