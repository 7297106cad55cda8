package provider

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"golang.org/x/crypto/ssh"
)

// knownStringCheck is a string validator made of a description and a check
// of a known value: null and unknown values are skipped, so a list of
// variables validates element by element.
type knownStringCheck struct {
	description string
	check       func(at path.Path, value string) diag.Diagnostic // nil: fine
}

func (v knownStringCheck) Description(context.Context) string         { return v.description }
func (v knownStringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v knownStringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d := v.check(req.Path, req.ConfigValue.ValueString()); d != nil {
		resp.Diagnostics.Append(d)
	}
}

// positiveDuration accepts a Go duration above zero, such as "90s" or "5m".
func positiveDuration() validator.String {
	return knownStringCheck{"value must be a duration above zero such as 90s or 5m", func(at path.Path, raw string) diag.Diagnostic {
		if d, err := time.ParseDuration(raw); err != nil || d <= 0 {
			return invalidDurationDiagnostic(at, raw)
		}
		return nil
	}}
}

// urlWithScheme accepts an absolute http or https URL.
func urlWithScheme() validator.String {
	return knownStringCheck{"value must be an absolute http:// or https:// URL", func(at path.Path, raw string) diag.Diagnostic {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidURLDiagnostic(at, raw)
		}
		return nil
	}}
}

// cidr accepts an IPv4 prefix such as 192.0.2.0/24. The cluster's security
// group rules are IPv4 only (cluster/secgroup.go), so an IPv6 prefix would
// pass the plan and fail at apply: it is refused here. With warnAnywhere, a
// /0 prefix plans with a warning.
func cidr(warnAnywhere bool) validator.String {
	return knownStringCheck{"value must be an IPv4 CIDR such as 192.0.2.0/24", func(at path.Path, raw string) diag.Diagnostic {
		p, err := netip.ParsePrefix(raw)
		switch {
		case err != nil:
			return invalidCIDRDiagnostic(at, raw, err)
		case !p.Addr().Is4():
			return ipv6CIDRDiagnostic(at, raw)
		case warnAnywhere && p.Bits() == 0:
			return openToEveryoneDiagnostic(at, raw)
		}
		return nil
	}}
}

// privateKey accepts an unencrypted private key in a format the SSH client
// reads (PEM or OpenSSH), as the guest library needs it.
func privateKey() validator.String {
	return knownStringCheck{"value must be an unencrypted SSH private key (PEM or OpenSSH format)", func(at path.Path, key string) diag.Diagnostic {
		if _, err := ssh.ParsePrivateKey([]byte(key)); err != nil {
			// The SSH package's errors name the format, never key material.
			return invalidPrivateKeyDiagnostic(at, err)
		}
		return nil
	}}
}

// hostKey accepts one public key in authorized_keys format.
func hostKey() validator.String {
	return knownStringCheck{`value must be a public host key in authorized_keys format, e.g. "ssh-ed25519 AAAA..."`, func(at path.Path, key string) diag.Diagnostic {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key)); err != nil {
			return invalidHostKeyDiagnostic(at, err)
		}
		return nil
	}}
}

// readableFile accepts the path of a regular file this machine can read:
// the provider reads it during apply, on this machine.
func readableFile() validator.String {
	return knownStringCheck{"value must be the path of a readable file", func(at path.Path, name string) diag.Diagnostic {
		f, err := os.Open(name)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = errors.New("is a directory")
			}
			f.Close()
		}
		if err != nil {
			return unreadableFileDiagnostic(at, name, err)
		}
		return nil
	}}
}
