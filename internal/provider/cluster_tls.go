package provider

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// pxc_cluster's tls block and the CA it yields (issue 14).

// tlsModel is pxc_cluster.tls.
type tlsModel struct {
	Mode                   types.String `tfsdk:"mode"`
	CACert                 types.String `tfsdk:"ca_cert"`
	CAKey                  types.String `tfsdk:"ca_key"`
	ServerCertValidityDays types.Int64  `tfsdk:"server_cert_validity_days"`
	ServerNames            types.List   `tfsdk:"server_names"`
}

const defaultServerCertValidityDays = 365

// serverNameRegexp is a DNS name or an IPv4/IPv6 address (checked again by
// the cluster package).
var serverNameRegexp = regexp.MustCompile(`^[A-Za-z0-9:]([A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?$`)

func clusterTLSAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Encryption of client connections (3306), Galera replication (4567), IST (4568) and SST (4444). " +
			"Omitted: `mode = \"required\"` with a CA the provider generates (ECDSA P-256; its key is kept in state as `generated_ca_key`). " +
			"Every node gets its own server certificate issued by that CA, valid for the node's name, the cluster's `name` and the node's IP " +
			"(plus `server_names`). The load balancer passes TLS through: clients verify `ca_certificate` and the cluster's `name` " +
			"(or skip the name check), whichever node answers. On a running cluster, turning TLS on or off or changing `mode` rolls the nodes " +
			"(the plan says how); new certificate settings or another CA renew every node's certificate without a restart.",
		Attributes: map[string]schema.Attribute{
			"mode": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.TLSRequired),
				Validators: []validator.String{stringvalidator.OneOf(cluster.TLSRequired, cluster.TLSPreferred, cluster.TLSDisabled)},
				MarkdownDescription: "`required` (default): replication, IST and SST encrypted, and clients must use TLS (`require_secure_transport`; " +
					"a plain TCP login fails: MariaDB answers \"Access denied\" (1045) even to the right password, Percona error 3159); `preferred`: the same, but clients may still connect in the clear; " +
					"`disabled`: nothing encrypted. SST with rsync on MariaDB runs through stunnel (package `stunnel4` on the image); " +
					"Percona 5.7's rsync SST cannot encrypt and is refused unless `disabled`.",
			},
			"ca_cert": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("ca_key"))},
				MarkdownDescription: "Your own CA certificate (PEM) to issue the server certificates from, instead of a generated one. Needs `ca_key`.",
			},
			"ca_key": schema.StringAttribute{
				Optional: true, Sensitive: true,
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("ca_cert"))},
				MarkdownDescription: "The private key of `ca_cert` (PEM, unencrypted; ECDSA or RSA). It must match the certificate.",
			},
			"server_cert_validity_days": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(defaultServerCertValidityDays),
				Validators:          []validator.Int64{int64validator.Between(1, 3650)},
				MarkdownDescription: "Lifetime of each node's server certificate in days (default 365), never beyond the CA's.",
			},
			"server_names": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(serverNameRegexp,
					"must be a DNS name or an IP address"))},
				MarkdownDescription: "Extra DNS names or IP addresses every node's certificate carries, e.g. the DNS name clients use for the load balancer " +
					"(a pool's VIP is not known when the cluster is created).",
			},
		},
	}
}

// clusterTLSComputedAttributes are the CA the cluster's certificates chain to.
func clusterTLSComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"ca_certificate": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "The CA certificate (PEM) the nodes' certificates chain to: give it to clients (`--ssl-ca`, Go's `tls.Config.RootCAs`). " +
				"`tls.ca_cert` when given; empty when TLS is disabled, or after an import that was not given `tls.ca_cert`.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"generated_ca_key": schema.StringAttribute{
			Computed: true, Sensitive: true,
			MarkdownDescription: "The private key of the CA the provider generated (PKCS#8 PEM); empty with `tls.ca_cert` or TLS disabled. " +
				"It issues the certificates of nodes that join later, so it is kept in state.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
	}
}

// tlsMode is the configured mode (an omitted block: required).
func (m *clusterModel) tlsMode() string {
	if m.TLS == nil || m.TLS.Mode.IsNull() || m.TLS.Mode.IsUnknown() {
		return cluster.TLSRequired
	}
	return m.TLS.Mode.ValueString()
}

// tlsSpec adds the TLS block and the CA in state to a cluster spec.
func (m *clusterModel) tlsSpec(ctx context.Context, s *cluster.Spec, diags *diag.Diagnostics) {
	s.TLS = cluster.TLSSpec{Mode: m.tlsMode(), ServerCertValidity: defaultServerCertValidityDays * 24 * time.Hour}
	if t := m.TLS; t != nil {
		s.TLS.CACert, s.TLS.CAKey = t.CACert.ValueString(), t.CAKey.ValueString()
		if !t.ServerCertValidityDays.IsNull() && !t.ServerCertValidityDays.IsUnknown() {
			s.TLS.ServerCertValidity = time.Duration(t.ServerCertValidityDays.ValueInt64()) * 24 * time.Hour
		}
		if !t.ServerNames.IsNull() && !t.ServerNames.IsUnknown() {
			diags.Append(t.ServerNames.ElementsAs(ctx, &s.TLS.ServerNames, false)...)
		}
	}
	if s.TLS.CACert == "" {
		// A generated CA lives in state once created.
		s.TLS.CACert, s.TLS.CAKey = m.CACertificate.ValueString(), m.GeneratedCAKey.ValueString()
	}
}

// validateTLSConfig checks the tls block at validate time, each error at
// the attribute it is about: a bad PEM, a key that does not match, a mode
// the datastore's SST cannot carry.
func validateTLSConfig(ctx context.Context, m *clusterModel, diags *diag.Diagnostics) {
	t := m.TLS
	if t == nil {
		t = &tlsModel{}
	}
	at := path.Root("tls")
	if !t.CACert.IsNull() && !t.CACert.IsUnknown() {
		if err := cluster.CheckCACertificate(t.CACert.ValueString()); err != nil {
			diags.Append(invalidTLSDiagnostic(at.AtName("ca_cert"), err))
			return
		}
		if !t.CAKey.IsNull() && !t.CAKey.IsUnknown() {
			if _, err := cluster.ParseCA(t.CACert.ValueString(), t.CAKey.ValueString()); err != nil {
				where := at.AtName("ca_key")
				if strings.HasPrefix(err.Error(), "ca_cert") {
					where = at.AtName("ca_cert")
				}
				diags.Append(invalidTLSDiagnostic(where, err))
			}
		}
	}
	if m.Datastore == nil || m.Datastore.Type.IsUnknown() || m.Datastore.Version.IsUnknown() || m.SSTMethod.IsUnknown() ||
		(m.TLS != nil && m.TLS.Mode.IsUnknown()) {
		return
	}
	d := cluster.Datastore{Type: m.Datastore.Type.ValueString(), Version: m.Datastore.Version.ValueString()}
	if cluster.CheckDatastore(d) != nil {
		return // reported at datastore
	}
	if err := cluster.CheckTLS(d, m.SSTMethod.ValueString(), cluster.TLSSpec{Mode: m.tlsMode()}); err != nil {
		diags.Append(invalidTLSDiagnostic(at.AtName("mode"), err))
	}
}

// planTLS fills in the CA a create will use when it is known now, and
// says what a change of the TLS block on a running cluster does
// (cluster_tls_change.go).
func planTLS(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, plan *clusterModel) {
	if req.State.Raw.IsNull() {
		switch {
		case plan.tlsMode() == cluster.TLSDisabled:
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("ca_certificate"), types.StringValue(""))...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generated_ca_key"), types.StringValue(""))...)
		case plan.TLS != nil && !plan.TLS.CACert.IsNull() && !plan.TLS.CACert.IsUnknown():
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("ca_certificate"), plan.TLS.CACert)...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("generated_ca_key"), types.StringValue(""))...)
		}
		return
	}
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || plan.TLS != nil && plan.TLS.Mode.IsUnknown() {
		return
	}
	planTLSChange(ctx, req, resp, plan, &state)
}
