package provider

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// providerConfig builds the provider block with the given attributes set
// (strings, or tftypes values) and the rest null.
func providerConfig(t *testing.T, set map[string]any) tfsdk.Config {
	t.Helper()
	ctx := context.Background()
	var sresp provider.SchemaResponse
	New("test")().Schema(ctx, provider.SchemaRequest{}, &sresp)
	typ := sresp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range set {
		switch x := v.(type) {
		case string:
			vals[name] = tftypes.NewValue(tftypes.String, x)
		case tftypes.Value:
			vals[name] = x
		default:
			t.Fatalf("unsupported value for %s: %T", name, v)
		}
	}
	return tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(typ, vals)}
}

// configure runs the provider's ValidateConfig and Configure like Terraform.
func configure(t *testing.T, set map[string]any) (*ProviderData, diag.Diagnostics) {
	t.Helper()
	ctx := context.Background()
	p := New("test")().(*pxcProvider)
	cfg := providerConfig(t, set)
	var vresp provider.ValidateConfigResponse
	p.ValidateConfig(ctx, provider.ValidateConfigRequest{Config: cfg}, &vresp)
	if vresp.Diagnostics.HasError() {
		return nil, vresp.Diagnostics
	}
	var cresp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &cresp)
	if cresp.Diagnostics.HasError() {
		return nil, cresp.Diagnostics
	}
	data, diags := providerDataFrom(cresp.ResourceData)
	if diags.HasError() || data == nil {
		t.Fatalf("provider data: %v %v", data, diags)
	}
	if cresp.DataSourceData != cresp.ResourceData {
		t.Error("data sources must get the same provider data")
	}
	return data, nil
}

func TestConfigureNeedsNoCredentials(t *testing.T) {
	clearOSEnv(t)
	data, diags := configure(t, nil)
	if diags.HasError() {
		t.Fatalf("an empty provider block must configure (auth is lazy): %v", diags)
	}
	_, err := data.Client.Compute(context.Background())
	d := openStackErrorDiagnostic("create server db-1", err)
	if d.Summary() != "OpenStack Credentials Not Configured" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, want := range []string{"While attempting to create server db-1", "OS_AUTH_URL", "OS_CLOUD", "Original Error:"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
}

func TestClientFactoryAuthenticationRejected(t *testing.T) {
	clearOSEnv(t)
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodPost || r.URL.Path != "/v3/auth/tokens" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
	}))
	defer srv.Close()
	authURL := srv.URL + "/v3"
	data, diags := configure(t, map[string]any{"auth_url": authURL, "user_name": "demo", "password": "wrong-password", "tenant_name": "demo"})
	if diags.HasError() {
		t.Fatal(diags)
	}
	if calls != 0 {
		t.Fatalf("Configure must not authenticate; %d calls", calls)
	}
	_, err := data.Client.Network(context.Background())
	d := openStackErrorDiagnostic("create security group", err)
	if d.Summary() != "OpenStack Authentication Failed" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, want := range []string{"authentication failed", authURL, "401", "Original Error:"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
	if strings.Contains(d.Detail(), "wrong-password") {
		t.Errorf("the diagnostic leaks the password:\n%s", d.Detail())
	}
}

func TestClientFactoryUnreachable(t *testing.T) {
	clearOSEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	authURL := "http://" + l.Addr().String() + "/v3"
	_ = l.Close()
	data, diags := configure(t, map[string]any{"auth_url": authURL, "user_name": "demo", "password": "pw"})
	if diags.HasError() {
		t.Fatal(diags)
	}
	_, err = data.Client.Compute(context.Background())
	d := openStackErrorDiagnostic("create server db-1", err)
	if d.Summary() != "OpenStack Identity Endpoint Unreachable" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, want := range []string{"unreachable", authURL, "OS_AUTH_URL"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
}

func TestValidateRejectsConflictsWithPaths(t *testing.T) {
	t.Run("cert without key", func(t *testing.T) {
		clearOSEnv(t)
		_, diags := configure(t, map[string]any{"cert": "/tmp/c.pem"})
		assertErrorAt(t, diags, path.Root("cert"), "Incomplete Client Certificate")
	})
	t.Run("password in config, token in env", func(t *testing.T) {
		clearOSEnv(t)
		t.Setenv("OS_TOKEN", "tok")
		_, diags := configure(t, map[string]any{"password": "pw"})
		assertErrorAt(t, diags, path.Root("password"), "OS_TOKEN")
	})
	t.Run("unknown value", func(t *testing.T) {
		clearOSEnv(t)
		_, diags := configure(t, map[string]any{"auth_url": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
		assertErrorAt(t, diags, path.Root("auth_url"), "Unknown OpenStack Provider Setting")
	})
}

func TestOpenStackErrorDiagnosticGeneric(t *testing.T) {
	d := openStackErrorDiagnostic("delete volume v1", context.DeadlineExceeded)
	if d.Summary() != "OpenStack API Error" || !strings.Contains(d.Detail(), "While attempting to delete volume v1") {
		t.Errorf("%s: %s", d.Summary(), d.Detail())
	}
}

// TestSchemaValidatorsThroughProtocol runs the framework's whole provider
// validation (attribute validators included), as Terraform does.
func TestSchemaValidatorsThroughProtocol(t *testing.T) {
	clearOSEnv(t)
	ctx := context.Background()
	server := providerserver.NewProtocol6(New("test")())()
	cases := []struct {
		name    string
		set     map[string]any
		at      string
		summary string
	}{
		{"password with token", map[string]any{"password": "a", "token": "b"}, "password", "Invalid Attribute Combination"},
		{"tenant_name with project_name", map[string]any{"tenant_name": "a", "project_name": "b"}, "tenant_name", "Invalid Attribute Combination"},
		{"cert without key", map[string]any{"cert": "/c.pem"}, "cert", "Incomplete Client Certificate"},
		{"auth_url without scheme", map[string]any{"auth_url": "keystone:5000"}, "auth_url", "Invalid URL"},
		{"endpoint_type", map[string]any{"endpoint_type": "private"}, "endpoint_type", "Invalid Attribute Value Match"},
		{"endpoint_overrides key", map[string]any{"endpoint_overrides": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String},
			map[string]tftypes.Value{"dns": tftypes.NewValue(tftypes.String, "http://x/")})}, "endpoint_overrides", "Invalid Attribute Value Match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := providerConfig(t, tc.set)
			dv, err := tfprotov6.NewDynamicValue(cfg.Raw.Type(), cfg.Raw)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := server.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: &dv})
			if err != nil {
				t.Fatal(err)
			}
			want := tftypes.NewAttributePath().WithAttributeName(tc.at)
			for _, d := range resp.Diagnostics {
				// The path may go deeper (a map key), but starts at the attribute.
				if d.Severity == tfprotov6.DiagnosticSeverityError && d.Summary == tc.summary && d.Attribute != nil &&
					strings.HasPrefix(d.Attribute.String(), want.String()) {
					return
				}
			}
			var got []string
			for _, d := range resp.Diagnostics {
				got = append(got, d.Summary+" at "+d.Attribute.String())
			}
			t.Errorf("want %q at %s, got %v", tc.summary, tc.at, got)
		})
	}
}

// keystone answers token requests with a catalog listing only compute.
func keystone(t *testing.T, tls bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v3/auth/tokens" {
			http.NotFound(w, r)
			return
		}
		base := "http://" + r.Host
		w.Header().Set("X-Subject-Token", "tok")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{
			"expires_at": "2099-01-01T00:00:00.000000Z",
			"catalog": []any{map[string]any{"type": "compute", "id": "c", "endpoints": []any{
				map[string]any{"id": "e", "interface": "public", "region": "RegionOne", "url": base + "/compute/v2.1/"}}}},
		}})
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestDiagnosticServiceMissingFromCatalog(t *testing.T) {
	clearOSEnv(t)
	srv := keystone(t, false)
	data, diags := configure(t, map[string]any{"auth_url": srv.URL + "/v3", "user_name": "u", "password": "p", "tenant_name": "demo"})
	if diags.HasError() {
		t.Fatal(diags)
	}
	if _, err := data.Client.Compute(context.Background()); err != nil {
		t.Fatalf("compute is in the catalog: %v", err)
	}
	_, err := data.Client.LoadBalancer(context.Background())
	d := openStackErrorDiagnostic("create load balancer for db", err)
	if d.Summary() != "OpenStack Service Not Available" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, want := range []string{"load-balancer", "catalog", "endpoint_overrides"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
}

func TestDiagnosticTLS(t *testing.T) {
	clearOSEnv(t)
	srv := keystone(t, true)
	data, diags := configure(t, map[string]any{"auth_url": srv.URL + "/v3", "user_name": "u", "password": "p"})
	if diags.HasError() {
		t.Fatal(diags)
	}
	_, err := data.Client.Compute(context.Background())
	d := openStackErrorDiagnostic("create server db-1", err)
	if d.Summary() != "OpenStack TLS Error" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, want := range []string{srv.URL + "/v3", "cacert_file", "OS_CACERT"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
}
