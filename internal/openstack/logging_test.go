package openstack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// recordingLogger keeps every line it is given, printed with its fields.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordingLogger) Debug(_ context.Context, msg string, fields map[string]any) {
	r.add("DEBUG", msg, fields)
}

func (r *recordingLogger) Trace(_ context.Context, msg string, fields map[string]any) {
	r.add("TRACE", msg, fields)
}

func (r *recordingLogger) add(level, msg string, fields map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf("%s %s %v", level, msg, fields))
}

func (r *recordingLogger) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// Requests are logged through the Logger the caller supplies, and neither
// the token, nor the password, nor a private key returned by Nova reaches it.
func TestRequestsLoggedWithSecretsMasked(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /compute/v2.1/os-keypairs", status(201, map[string]any{"keypair": map[string]any{
		"name": "kp", "public_key": "ssh-ed25519 AAAApublic", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYDATA\n",
	}}))
	log := &recordingLogger{}
	c, err := NewClient(f.config(), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := c.CreateKeyPair(fastCtx(t), "kp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(kp.PrivateKey, "SECRETKEYDATA") {
		t.Fatal("the caller must still get the private key")
	}
	out := log.String()
	mustContain(t, out, "OpenStack request", "OpenStack response", "/v3/auth/tokens", "/compute/v2.1/os-keypairs", "ssh-ed25519 AAAApublic")
	for _, secret := range []string{fakeToken, "s3cret-pw", "SECRETKEYDATA"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

// A configured secret is masked wherever it appears, even where no key
// names it as secret (here: a URL and a header).
func TestMaskingLoggerMasksLiteralSecrets(t *testing.T) {
	log := &recordingLogger{}
	m := newMaskingLogger(log, []string{"s3cret-pw", ""})
	m.Debug(context.Background(), "saw s3cret-pw", map[string]any{
		"url": "https://x/?p=s3cret-pw", "headers": map[string]string{"X-Other": "s3cret-pw"}, "status": 200,
	})
	out := log.String()
	if strings.Contains(out, "s3cret-pw") {
		t.Errorf("log contains the secret: %s", out)
	}
	mustContain(t, out, "saw ***", "p=***", "X-Other:***", "status:200")
}

// A 503 from a service is retried through the client's transport.
func TestServiceCallRetried(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /compute/v2.1/os-keypairs/kp", sequence(
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
		status(200, map[string]any{"keypair": map[string]any{"name": "kp", "public_key": "ssh-ed25519 AAA"}}),
	))
	cfg := f.config()
	cfg.MaxRetries = 2
	c, err := NewClient(cfg, WithRetryBaseDelay(1))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := c.GetKeyPair(fastCtx(t), "kp")
	if err != nil || kp.PublicKey != "ssh-ed25519 AAA" {
		t.Fatalf("got %+v, %v", kp, err)
	}
}
