package provider

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"golang.org/x/crypto/ssh"
)

// urlWithScheme accepts an absolute http or https URL.
func urlWithScheme() validator.String { return urlValidator{} }

type urlValidator struct{}

func (urlValidator) Description(context.Context) string {
	return "value must be an absolute http:// or https:// URL"
}

func (v urlValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (urlValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		resp.Diagnostics.Append(invalidURLDiagnostic(req.Path, raw))
	}
}

// cidr accepts an IPv4 prefix such as 192.0.2.0/24. The cluster's security
// group rules are IPv4 only (cluster/secgroup.go), so an IPv6 prefix would
// pass the plan and fail at apply: it is refused here. With warnAnywhere, a
// /0 prefix plans with a warning. An unknown value is skipped, so a list
// of variables validates element by element.
func cidr(warnAnywhere bool) validator.String { return cidrValidator{warnAnywhere: warnAnywhere} }

type cidrValidator struct{ warnAnywhere bool }

func (cidrValidator) Description(context.Context) string {
	return "value must be an IPv4 CIDR such as 192.0.2.0/24"
}

func (v cidrValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v cidrValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	p, err := netip.ParsePrefix(raw)
	switch {
	case err != nil:
		resp.Diagnostics.Append(invalidCIDRDiagnostic(req.Path, raw, err))
	case !p.Addr().Is4():
		resp.Diagnostics.Append(ipv6CIDRDiagnostic(req.Path, raw))
	case v.warnAnywhere && p.Bits() == 0:
		resp.Diagnostics.Append(openToEveryoneDiagnostic(req.Path, raw))
	}
}

// privateKey accepts an unencrypted private key in a format the SSH client
// reads (PEM or OpenSSH), as the guest library needs it.
func privateKey() validator.String { return privateKeyValidator{} }

type privateKeyValidator struct{}

func (privateKeyValidator) Description(context.Context) string {
	return "value must be an unencrypted SSH private key (PEM or OpenSSH format)"
}

func (v privateKeyValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (privateKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := ssh.ParsePrivateKey([]byte(req.ConfigValue.ValueString())); err != nil {
		// The error of the SSH package names the format, never key material.
		resp.Diagnostics.Append(invalidPrivateKeyDiagnostic(req.Path, err))
	}
}

// hostKey accepts one public key in authorized_keys format.
func hostKey() validator.String { return hostKeyValidator{} }

type hostKeyValidator struct{}

func (hostKeyValidator) Description(context.Context) string {
	return "value must be a public host key in authorized_keys format, e.g. \"ssh-ed25519 AAAA...\""
}

func (v hostKeyValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (hostKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(req.ConfigValue.ValueString())); err != nil {
		resp.Diagnostics.Append(invalidHostKeyDiagnostic(req.Path, err))
	}
}

// readableFile accepts the path of a regular file this machine can read:
// the provider reads it during apply, on this machine.
func readableFile() validator.String { return readableFileValidator{} }

type readableFileValidator struct{}

func (readableFileValidator) Description(context.Context) string {
	return "value must be the path of a readable file"
}

func (v readableFileValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (readableFileValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	name := req.ConfigValue.ValueString()
	f, err := os.Open(name)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.IsDir() {
			err = errors.New("is a directory")
		}
		f.Close()
	}
	if err != nil {
		resp.Diagnostics.Append(unreadableFileDiagnostic(req.Path, name, err))
	}
}
