package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// Bad TLS input fails at validate, each error at the attribute at fault,
// and never repeats the key.
func TestValidateTLSConfigNamesTheAttribute(t *testing.T) {
	certPEM, keyPEM, err := cluster.NewCA("a", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, _ := cluster.NewCA("b", 0)
	model := func(datastore, version, sst, mode, cert, key string) *clusterModel {
		m := &clusterModel{
			Datastore: &datastoreModel{Type: types.StringValue(datastore), Version: types.StringValue(version)},
			SSTMethod: types.StringValue(sst),
			TLS:       &tlsModel{Mode: types.StringValue(mode), CACert: types.StringNull(), CAKey: types.StringNull()},
		}
		if cert != "" {
			m.TLS.CACert = types.StringValue(cert)
		}
		if key != "" {
			m.TLS.CAKey = types.StringValue(key)
		}
		return m
	}
	cases := map[string]struct {
		m    *clusterModel
		at   path.Path
		want string
	}{
		"bad pem":       {model("mariadb", "10.11", "rsync", "required", "not a certificate", keyPEM), path.Root("tls").AtName("ca_cert"), "not a PEM certificate"},
		"key mismatch":  {model("mariadb", "10.11", "rsync", "required", certPEM, otherKey), path.Root("tls").AtName("ca_key"), "ca_key does not belong to ca_cert"},
		"bad key":       {model("mariadb", "10.11", "rsync", "required", certPEM, "junk"), path.Root("tls").AtName("ca_key"), "not a PEM private key"},
		"pxc 5.7 rsync": {model("percona", "5.7", "rsync", "required", "", ""), path.Root("tls").AtName("mode"), "rsync SST cannot encrypt"},
	}
	for name, tc := range cases {
		var diags diag.Diagnostics
		validateTLSConfig(context.Background(), tc.m, &diags)
		if len(diags) != 1 {
			t.Errorf("%s: %d diagnostics: %v", name, len(diags), diags)
			continue
		}
		d, ok := diags[0].(diag.DiagnosticWithPath)
		if !ok || !d.Path().Equal(tc.at) || !strings.Contains(d.Detail(), tc.want) {
			t.Errorf("%s: %v at %v, want %q at %s", name, diags[0].Detail(), d.Path(), tc.want, tc.at)
		}
		if strings.Contains(d.Detail(), "PRIVATE KEY") {
			t.Errorf("%s: the key is in the diagnostic", name)
		}
	}
	for name, m := range map[string]*clusterModel{
		"default":       {Datastore: &datastoreModel{Type: types.StringValue("mariadb"), Version: types.StringValue("10.11")}, SSTMethod: types.StringValue("rsync")},
		"user CA":       model("mariadb", "10.11", "mariabackup", "preferred", certPEM, keyPEM),
		"pxc 5.7 plain": model("percona", "5.7", "rsync", "disabled", "", ""),
	} {
		var diags diag.Diagnostics
		validateTLSConfig(context.Background(), m, &diags)
		if diags.HasError() {
			t.Errorf("%s refused: %v", name, diags)
		}
	}
}

// The spec carries the configured CA, else the one in state, and an
// omitted block means required.
func TestTLSSpecFromModel(t *testing.T) {
	m := &clusterModel{CACertificate: types.StringValue("CA"), GeneratedCAKey: types.StringValue("KEY")}
	var diags diag.Diagnostics
	var s cluster.Spec
	m.tlsSpec(context.Background(), &s, &diags)
	if s.TLS.Mode != cluster.TLSRequired || s.TLS.CACert != "CA" || s.TLS.CAKey != "KEY" || s.TLS.ServerCertValidity.Hours() != 365*24 {
		t.Errorf("spec = %+v", s.TLS)
	}
	m.TLS = &tlsModel{Mode: types.StringValue("preferred"), CACert: types.StringValue("MINE"), CAKey: types.StringValue("MYKEY"),
		ServerCertValidityDays: types.Int64Value(30), ServerNames: types.ListNull(types.StringType)}
	m.tlsSpec(context.Background(), &s, &diags)
	if s.TLS.Mode != cluster.TLSPreferred || s.TLS.CACert != "MINE" || s.TLS.CAKey != "MYKEY" || s.TLS.ServerCertValidity.Hours() != 30*24 {
		t.Errorf("spec = %+v", s.TLS)
	}
}

func tlsBlock(mode string) tlsModel {
	return tlsModel{Mode: types.StringValue(mode), CACert: types.StringNull(), CAKey: types.StringNull(),
		ServerCertValidityDays: types.Int64Value(365), ServerNames: types.ListNull(types.StringType)}
}
