package openstack

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// Requests are logged through tflog, and neither the token, nor the
// password, nor a private key returned by Nova reaches the log.
func TestRequestsLoggedWithSecretsMasked(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /compute/v2.1/os-keypairs", status(201, map[string]any{"keypair": map[string]any{
		"name": "kp", "public_key": "ssh-ed25519 AAAApublic", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYDATA\n",
	}}))
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	kp, err := f.client(t).CreateKeyPair(ctx, "kp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(kp.PrivateKey, "SECRETKEYDATA") {
		t.Fatal("the caller must still get the private key")
	}
	out := buf.String()
	mustContain(t, out, "OpenStack request", "OpenStack response", "/v3/auth/tokens", "/compute/v2.1/os-keypairs", "ssh-ed25519 AAAApublic")
	for _, secret := range []string{fakeToken, "s3cret-pw", "SECRETKEYDATA"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
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
