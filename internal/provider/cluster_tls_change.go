package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// TLS changes of a running cluster (issue 14): turning it on or off and a
// mode change roll (cluster.ChangeTLS); new certificate settings or
// another CA renew every node's certificate without a restart.

// privateCertificatesExpire keeps, in the resource's private state, when
// the first node certificate expires as the last read or apply found it
// (RFC 3339): ModifyPlan renews the certificates within 30 days of it.
const privateCertificatesExpire = "certificates_expire"

// saveCertificatesExpire records c.CertificatesExpire (nothing when none
// was read, so a read with a node down keeps the last known).
func saveCertificatesExpire(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, c *cluster.Cluster) diag.Diagnostics {
	if c.CertificatesExpire.IsZero() {
		return nil
	}
	b, err := json.Marshal(c.CertificatesExpire.UTC().Format(time.RFC3339)) // private state holds JSON
	if err != nil {
		return nil
	}
	return p.SetKey(ctx, privateCertificatesExpire, b)
}

// loadCertificatesExpire is what saveCertificatesExpire recorded (zero:
// nothing known).
func loadCertificatesExpire(ctx context.Context, p privateState) time.Time {
	b, d := p.GetKey(ctx, privateCertificatesExpire)
	if d.HasError() || len(b) == 0 {
		return time.Time{}
	}
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return time.Time{}
	}
	return t
}

// plannedTLSChange is what the configuration changes in the TLS of a
// running cluster, judged from state and from when the first node
// certificate expires (zero: unknown); the apply judges the mode again
// from what the servers record.
func plannedTLSChange(plan, state *clusterModel, expires time.Time) cluster.TLSChange {
	ch := cluster.DiffTLS(state.tlsMode(), cluster.TLSSpec{Mode: plan.tlsMode()})
	if plan.tlsMode() == cluster.TLSDisabled || ch.Enable {
		return ch
	}
	if state.tlsMode() != cluster.TLSDisabled && cluster.RenewalDue(expires, time.Now()) {
		ch.Renew = true
	}
	p, s := plan.TLS, state.TLS
	if p == nil {
		p = &tlsModel{}
	}
	if s == nil {
		s = &tlsModel{}
	}
	if !p.CACert.IsUnknown() && p.CACert.ValueString() != s.CACert.ValueString() {
		ch.Renew, ch.NewCA = true, true
	}
	if !p.ServerCertValidityDays.IsUnknown() && !s.ServerCertValidityDays.IsNull() && !p.ServerCertValidityDays.Equal(s.ServerCertValidityDays) {
		ch.Renew = true
	}
	if !p.ServerNames.IsUnknown() && !p.ServerNames.Equal(s.ServerNames) && !(len(p.ServerNames.Elements()) == 0 && len(s.ServerNames.Elements()) == 0) {
		ch.Renew = true
	}
	return ch
}

// planTLSChange says in the plan what a TLS change does, and leaves the
// CA attributes unknown where the apply sets them.
func planTLSChange(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, plan, state *clusterModel) {
	expires := loadCertificatesExpire(ctx, req.Private)
	ch := plannedTLSChange(plan, state, expires)
	if ch.Empty() {
		return
	}
	set := func(name string, v types.String) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
	}
	userCA := plan.TLS != nil && !plan.TLS.CACert.IsNull()
	switch {
	case plan.tlsMode() == cluster.TLSDisabled:
		set("ca_certificate", types.StringValue(""))
		set("generated_ca_key", types.StringValue(""))
	case userCA:
		set("ca_certificate", plan.TLS.CACert)
		set("generated_ca_key", types.StringValue(""))
	case ch.Enable:
		set("ca_certificate", types.StringUnknown())
		set("generated_ca_key", types.StringUnknown())
	case plannedTLSChange(plan, state, time.Time{}).Empty():
		// Nothing configured changed, a certificate nears its end: the
		// CA is re-stated by the apply, so the plan is an update.
		set("ca_certificate", types.StringUnknown())
	}
	d := tlsChangePlannedDiagnostic(len(state.Nodes.Elements()), state.tlsMode(), plan.tlsMode(), ch)
	if cluster.RenewalDue(expires, time.Now()) && ch.Renew {
		d = diag.NewAttributeWarningDiagnostic(path.Root("tls"), d.Summary(),
			fmt.Sprintf("a node certificate expires at %s, within 30 days: %s", expires.UTC().Format(time.RFC3339), d.Detail()))
	}
	resp.Diagnostics.Append(d)
}

// updateClusterTLS applies a TLS change during Update: spec gets the CA
// the nodes use from now on (a generated one when TLS is turned on
// without tls.ca_cert), and plan its certificate and generated key.
func updateClusterTLS(ctx context.Context, mgr *cluster.Manager, c *cluster.Cluster, plan, state *clusterModel, spec *cluster.Spec) error {
	planned := plannedTLSChange(plan, state, c.CertificatesExpire)
	if planned.Empty() {
		return nil // only what the plan announced is done
	}
	// The servers' record says what they run (an earlier apply may have
	// stopped half way); the plan only says that something changes.
	from := c.Requested.TLSMode
	if from == "" {
		from = cluster.TLSDisabled
	}
	ch := cluster.DiffTLS(from, spec.TLS)
	if !ch.Enable && !ch.Disable {
		ch.Renew, ch.NewCA = planned.Renew, planned.NewCA
	}
	was := cluster.TLSSpec{Mode: from, CACert: state.CACertificate.ValueString()}
	userCA := plan.TLS != nil && !plan.TLS.CACert.IsNull()
	if !userCA && spec.TLS.CACert == "" && was.CACert != "" {
		// The generated CA stays (the plan may leave ca_certificate
		// unknown for a renewal).
		spec.TLS.CACert, spec.TLS.CAKey = was.CACert, state.GeneratedCAKey.ValueString()
	}
	switch {
	case spec.TLS.Mode == cluster.TLSDisabled:
		spec.TLS.CACert, spec.TLS.CAKey = "", ""
	case spec.TLS.CACert == "":
		cert, key, err := cluster.NewCA(c.Name, cluster.DefaultCAValidity)
		if err != nil {
			return err
		}
		spec.TLS.CACert, spec.TLS.CAKey = cert, key
	}
	if ch.NewCA && was.CACert != "" && was.CACert != spec.TLS.CACert {
		// Both CAs in every node's bundle, so no peer or client that
		// trusts either breaks mid-roll.
		spec.TLS.CABundle = strings.TrimSpace(was.CACert) + "\n" + spec.TLS.CACert
	}
	if !ch.Empty() {
		if err := mgr.ChangeTLS(ctx, c, was, *spec, ch); err != nil {
			return err
		}
	}
	plan.CACertificate = types.StringValue(spec.TLS.CACert)
	plan.GeneratedCAKey = types.StringValue("")
	if !userCA {
		plan.GeneratedCAKey = types.StringValue(spec.TLS.CAKey)
	}
	return nil
}

// tlsChangePlannedDiagnostic is the plan's note of what a TLS change does.
func tlsChangePlannedDiagnostic(nodes int, from, to string, ch cluster.TLSChange) diag.Diagnostic {
	var what string
	switch {
	case ch.Enable:
		what = fmt.Sprintf("turning TLS on (%s): every node gets a certificate, then two rolling restarts of %d nodes, readers first and the writer last "+
			"after it moved away, each Synced before the next: the first accepts plain and TLS peers (socket.dynamic), the second refuses plain ones; "+
			"then state transfers are encrypted (option files, no restart). Quorum holds throughout", to, nodes)
	case ch.Disable:
		what = fmt.Sprintf("turning TLS off: two rolling restarts of %d nodes (the first accepts plain and TLS peers), state transfers plain first", nodes)
	case ch.Mode:
		what = fmt.Sprintf("tls.mode %s -> %s: a rolling restart of %d nodes, readers first and the writer last", from, to, nodes)
	}
	if ch.Renew {
		renew := fmt.Sprintf("new server certificates on %d nodes, reloaded without a restart (FLUSH SSL, socket.ssl_reload), one node at a time", nodes)
		if ch.NewCA {
			renew += "; another CA: every node trusts the old and the new CA first"
		}
		if what != "" {
			what += "; "
		}
		what += renew
	}
	return diag.NewAttributeWarningDiagnostic(path.Root("tls"), "TLS Change Planned", what+".")
}

// updateTLSFailed reports a TLS change that stopped part way.
func updateTLSFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("TLS Change Failed",
		fmt.Sprintf("Changing the TLS of cluster %s failed. Nodes before the failing one have the new settings and every node keeps "+
			"accepting its peers; fix the cause and apply again to finish.\n\n%s", id, err))
}
