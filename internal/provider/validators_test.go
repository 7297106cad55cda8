package provider

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"golang.org/x/crypto/ssh"
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

// validate runs v on value (nil: unknown) and returns the summaries of
// errors and warnings.
func validate(v validator.String, value *string) (errs, warns []string) {
	req := validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringUnknown()}
	if value != nil {
		req.ConfigValue = types.StringValue(*value)
	}
	var resp validator.StringResponse
	v.ValidateString(context.Background(), req, &resp)
	for _, d := range resp.Diagnostics.Errors() {
		errs = append(errs, d.Summary())
	}
	for _, d := range resp.Diagnostics.Warnings() {
		warns = append(warns, d.Summary())
	}
	return errs, warns
}

func TestCIDRValidator(t *testing.T) {
	cases := []struct {
		value        string
		warnAnywhere bool
		err, warn    string
	}{
		{"192.0.2.0/24", true, "", ""},
		{"10.1.2.3/32", false, "", ""},
		{"0.0.0.0/0", true, "", "Database Open To Every Address"},
		{"0.0.0.0/0", false, "", ""},
		{"10.0.0.0", true, "Invalid CIDR", ""},
		{"2001:db8::/32", true, "IPv6 CIDR Not Supported", ""},
		{"::/0", false, "IPv6 CIDR Not Supported", ""},
		{"::ffff:10.0.0.0/104", false, "IPv6 CIDR Not Supported", ""},
	}
	for _, tc := range cases {
		v := tc.value
		errs, warns := validate(cidr(tc.warnAnywhere), &v)
		if got := first(errs); got != tc.err {
			t.Errorf("%s (warn %v): error %q, want %q", tc.value, tc.warnAnywhere, got, tc.err)
		}
		if got := first(warns); got != tc.warn {
			t.Errorf("%s (warn %v): warning %q, want %q", tc.value, tc.warnAnywhere, got, tc.warn)
		}
	}
	if errs, warns := validate(cidr(true), nil); len(errs)+len(warns) > 0 {
		t.Errorf("unknown value judged: %v %v", errs, warns)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestKeyValidators(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	goodPriv, goodPub := string(pem.EncodeToMemory(block)), string(ssh.MarshalAuthorizedKey(sshPub))
	for _, tc := range []struct {
		v     validator.String
		value string
		err   string
	}{
		{privateKey(), goodPriv, ""},
		{privateKey(), "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----\n", "Invalid Private Key"},
		{privateKey(), goodPub, "Invalid Private Key"},
		{hostKey(), goodPub, ""},
		{hostKey(), "ssh-ed25519 AAAAnotbase64!", "Invalid Host Key"},
		{hostKey(), goodPriv, "Invalid Host Key"},
	} {
		v := tc.value
		errs, _ := validate(tc.v, &v)
		if got := first(errs); got != tc.err {
			t.Errorf("%T on %.30q: error %q, want %q", tc.v, tc.value, got, tc.err)
		}
	}
}

func TestReadableFileValidator(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]string{file: "", dir: "Unreadable File", filepath.Join(dir, "missing"): "Unreadable File"} {
		v := value
		if errs, _ := validate(readableFile(), &v); first(errs) != want {
			t.Errorf("%s: errors %v, want %q", value, errs, want)
		}
	}
}
