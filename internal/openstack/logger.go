package openstack

import (
	"context"
	"strings"
)

// Logger receives the client's request log. The cloud layer knows no
// Terraform: the caller bridges this to its own logging (the provider to
// tflog). Before a line reaches the Logger, tokens, passwords and keys are
// redacted from headers and bodies and the configured secrets are masked
// wherever they appear, so a Logger may print what it gets.
type Logger interface {
	// Debug is one line per request: method, url, status, duration.
	Debug(ctx context.Context, msg string, fields map[string]any)
	// Trace carries the redacted headers and bodies.
	Trace(ctx context.Context, msg string, fields map[string]any)
}

// WithLogger sends the client's request log to l; without it nothing is logged.
func WithLogger(l Logger) Option { return func(c *Client) { c.logger = l } }

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Trace(context.Context, string, map[string]any) {}

// maskingLogger replaces every literal secret (password, token, application
// credential secret) in messages and field values before logging.
type maskingLogger struct {
	next    Logger
	secrets []string
}

func newMaskingLogger(next Logger, secrets []string) Logger {
	if next == nil {
		return nopLogger{}
	}
	m := maskingLogger{next: next}
	for _, s := range secrets {
		if s != "" {
			m.secrets = append(m.secrets, s)
		}
	}
	return m
}

func (m maskingLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	m.next.Debug(ctx, m.mask(msg), m.maskFields(fields))
}

func (m maskingLogger) Trace(ctx context.Context, msg string, fields map[string]any) {
	m.next.Trace(ctx, m.mask(msg), m.maskFields(fields))
}

func (m maskingLogger) mask(s string) string {
	for _, secret := range m.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

func (m maskingLogger) maskFields(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		switch x := v.(type) {
		case string:
			out[k] = m.mask(x)
		case map[string]string:
			masked := make(map[string]string, len(x))
			for hk, hv := range x {
				masked[hk] = m.mask(hv)
			}
			out[k] = masked
		default:
			out[k] = v
		}
	}
	return out
}
