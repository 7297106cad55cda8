package provider

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// What the plan judges a TLS change to be, and what it says about it.
func TestPlannedTLSChange(t *testing.T) {
	names := func(n ...string) types.List {
		v := make([]attr.Value, len(n))
		for i, s := range n {
			v[i] = types.StringValue(s)
		}
		return types.ListValueMust(types.StringType, v)
	}
	block := func(mode, ca string, days int64, sn types.List) *tlsModel {
		m := &tlsModel{Mode: types.StringValue(mode), CACert: types.StringNull(), CAKey: types.StringNull(),
			ServerCertValidityDays: types.Int64Value(days), ServerNames: sn}
		if ca != "" {
			m.CACert, m.CAKey = types.StringValue(ca), types.StringValue("key of "+ca)
		}
		return m
	}
	none := types.ListNull(types.StringType)
	for name, tc := range map[string]struct {
		state, plan *tlsModel
		want        cluster.TLSChange
		says        string
	}{
		"on":            {block("disabled", "", 365, none), block("required", "", 365, none), cluster.TLSChange{Enable: true}, "turning TLS on (required)"},
		"on by default": {block("disabled", "", 365, none), nil, cluster.TLSChange{Enable: true}, "two rolling restarts of 3 nodes"},
		"off":           {block("required", "", 365, none), block("disabled", "", 365, none), cluster.TLSChange{Disable: true}, "turning TLS off"},
		"mode":          {block("preferred", "", 365, none), block("required", "", 365, none), cluster.TLSChange{Mode: true}, "tls.mode preferred -> required: a rolling restart"},
		"validity":      {block("required", "", 365, none), block("required", "", 200, none), cluster.TLSChange{Renew: true}, "reloaded without a restart"},
		"names":         {block("required", "", 365, none), block("required", "", 365, names("db.example")), cluster.TLSChange{Renew: true}, "new server certificates on 3 nodes"},
		"another CA":    {block("required", "A", 365, none), block("required", "B", 365, none), cluster.TLSChange{Renew: true, NewCA: true}, "trusts the old and the new CA first"},
		"nothing":       {block("required", "A", 365, none), block("required", "A", 365, none), cluster.TLSChange{}, ""},
		"empty names":   {block("required", "", 365, none), block("required", "", 365, names()), cluster.TLSChange{}, ""},
	} {
		plan, state := &clusterModel{TLS: tc.plan}, &clusterModel{TLS: tc.state}
		got := plannedTLSChange(plan, state, time.Time{})
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", name, got, tc.want)
			continue
		}
		if tc.says == "" {
			continue
		}
		d := tlsChangePlannedDiagnostic(3, state.tlsMode(), plan.tlsMode(), got)
		if !strings.Contains(d.Detail(), tc.says) || d.Summary() != "TLS Change Planned" {
			t.Errorf("%s: the plan says %q, want it to say %q", name, d.Detail(), tc.says)
		}
	}
	// A certificate within 30 days of its end is renewed with nothing
	// configured changed; not on a plain cluster, not when far off.
	same := &clusterModel{TLS: block("required", "", 365, none)}
	if got := plannedTLSChange(same, same, time.Now().Add(10*24*time.Hour)); got != (cluster.TLSChange{Renew: true}) {
		t.Errorf("expiring in 10 days: %+v, want a renewal", got)
	}
	if got := plannedTLSChange(same, same, time.Now().Add(100*24*time.Hour)); !got.Empty() {
		t.Errorf("expiring in 100 days: %+v, want nothing", got)
	}
	plain := &clusterModel{TLS: block("disabled", "", 365, none)}
	if got := plannedTLSChange(plain, plain, time.Now().Add(24*time.Hour)); !got.Empty() {
		t.Errorf("plain cluster: %+v", got)
	}
	// The table says it rolls, and renewals are in place.
	if row, _ := clusterChanges.row("tls.mode"); row.kind != changeRolling {
		t.Errorf("tls.mode is %s", row.kind)
	}
	for _, n := range []string{"tls.ca_cert", "tls.ca_key", "tls.server_cert_validity_days", "tls.server_names"} {
		if row, _ := clusterChanges.row(n); row.kind != changeInPlace {
			t.Errorf("%s is %s", n, row.kind)
		}
	}
}

// ModifyPlan says what a TLS change of a running cluster does, at tls.
func TestPlanTLSChangeWarns(t *testing.T) {
	base := map[string]any{"name": "demo", "node_count": int64(3), "sst_method": "rsync",
		"failure_detection_timeout": int64(5), "root_password": "pw"}
	with := func(k string, v any) map[string]any {
		out := map[string]any{}
		for bk, bv := range base {
			out[bk] = bv
		}
		out[k] = v
		return out
	}
	for name, tc := range map[string]struct {
		state, plan map[string]any
		says        string
	}{
		"on":   {with("tls", tlsBlock("disabled")), base, "turning TLS on (required)"},
		"off":  {base, with("tls", tlsBlock("disabled")), "turning TLS off"},
		"mode": {with("tls", tlsBlock("required")), with("tls", tlsBlock("preferred")), "tls.mode required -> preferred: a rolling restart"},
	} {
		var found bool
		for _, d := range clusterPlanFor(t, tc.state, tc.plan).Warnings() {
			wp, ok := d.(diag.DiagnosticWithPath)
			if ok && wp.Path().String() == "tls" && d.Summary() == "TLS Change Planned" && strings.Contains(d.Detail(), tc.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no warning at tls saying %q", name, tc.says)
		}
	}
}

// memPrivate is private state in memory, refusing what Terraform refuses
// (a value that is not JSON).
type memPrivate map[string][]byte

func (m memPrivate) SetKey(_ context.Context, k string, v []byte) diag.Diagnostics {
	if !json.Valid(v) {
		return diag.Diagnostics{diag.NewErrorDiagnostic("JSON Invalid", k)}
	}
	m[k] = v
	return nil
}

func (m memPrivate) GetKey(_ context.Context, k string) ([]byte, diag.Diagnostics) { return m[k], nil }

// The expiry a read found survives private state; none read keeps the
// last known.
func TestCertificatesExpireInPrivateState(t *testing.T) {
	ctx := context.Background()
	p := memPrivate{}
	when := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	if d := saveCertificatesExpire(ctx, p, &cluster.Cluster{CertificatesExpire: when}); d.HasError() {
		t.Fatal(d)
	}
	if d := saveCertificatesExpire(ctx, p, &cluster.Cluster{}); d.HasError() {
		t.Fatal(d)
	}
	if got := loadCertificatesExpire(ctx, p); !got.Equal(when) {
		t.Errorf("loaded %v, want %v", got, when)
	}
	if got := loadCertificatesExpire(ctx, memPrivate{}); !got.IsZero() {
		t.Errorf("nothing saved: %v", got)
	}
}
