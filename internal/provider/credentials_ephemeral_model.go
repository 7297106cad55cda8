package provider

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// credentialsModel is pxc_credentials' configuration and result.
type credentialsModel struct {
	ClusterID         types.String `tfsdk:"cluster_id"`
	RootPassword      types.String `tfsdk:"root_password"`
	SSHPrivateKey     types.String `tfsdk:"ssh_private_key"`
	SSHUser           types.String `tfsdk:"ssh_user"`
	SSHHostKeyCheck   types.String `tfsdk:"ssh_host_key_check"`
	SSHKnownHostsFile types.String `tfsdk:"ssh_known_hosts_file"`
	Grants            []grantModel `tfsdk:"grants"`
	TTL               types.String `tfsdk:"ttl"`
	AccountHost       types.String `tfsdk:"account_host"`
	Address           types.String `tfsdk:"address"`
	Port              types.Int64  `tfsdk:"port"`
	Username          types.String `tfsdk:"username"`
	Password          types.String `tfsdk:"password"`
	Host              types.String `tfsdk:"host"`
	ExpiresAt         types.String `tfsdk:"expires_at"`
}

type grantModel struct {
	Privileges []types.String `tfsdk:"privileges"`
	On         types.String   `tfsdk:"on"`
}

// access is what reaching the nodes takes: the cluster's secrets and how
// to check host keys.
func (m *credentialsModel) access() cluster.Spec {
	s := cluster.Spec{
		RootPassword: m.RootPassword.ValueString(),
		SSH: cluster.SSHSpec{
			User: m.SSHUser.ValueString(), PrivateKey: m.SSHPrivateKey.ValueString(),
			HostKeyCheck: m.SSHHostKeyCheck.ValueString(), KnownHostsFile: m.SSHKnownHostsFile.ValueString(),
		},
	}
	if s.SSH.User == "" {
		s.SSH.User = "root"
	}
	if s.SSH.HostKeyCheck == "" {
		s.SSH.HostKeyCheck = cluster.HostKeyConsole
	}
	return s
}

// request reads grants, ttl and account_host; errors name the attribute.
// Unknown values (validation before apply) are skipped.
func (m *credentialsModel) request(diags *diag.Diagnostics) cluster.CredentialsRequest {
	var r cluster.CredentialsRequest
	ttl := defaultCredentialsTTL
	if !m.TTL.IsNull() && !m.TTL.IsUnknown() {
		ttl = m.TTL.ValueString()
	}
	if !m.TTL.IsUnknown() {
		d, err := time.ParseDuration(ttl)
		if err != nil || d < time.Minute || d > cluster.MaxCredentialsTTL {
			diags.AddAttributeError(path.Root("ttl"), "Invalid TTL",
				fmt.Sprintf("ttl %q must be a duration such as 30m or 2h, from 1m to %s.", ttl, cluster.MaxCredentialsTTL))
		}
		r.TTL = d
	}
	r.AccountHost = m.AccountHost.ValueString()
	for i, g := range m.Grants {
		at := path.Root("grants").AtListIndex(i)
		grant := guest.Grant{On: g.On.ValueString()}
		known := !g.On.IsUnknown()
		for _, p := range g.Privileges {
			known = known && !p.IsUnknown()
			grant.Privileges = append(grant.Privileges, strings.ToUpper(strings.Join(strings.Fields(p.ValueString()), " ")))
		}
		if known {
			if err := guest.ValidateUser(guest.User{Name: "check", Grants: []guest.Grant{grant}}); err != nil {
				diags.AddAttributeError(at, "Invalid Grant",
					fmt.Sprintf("Each grant is privilege names (letters and spaces, e.g. SELECT or ALL PRIVILEGES) on *.*, <database>.* or <database>.<table>.\n\n%v", err))
			}
		}
		r.Grants = append(r.Grants, grant)
	}
	return r
}

// setResult fills the computed attributes from an open account.
func (m *credentialsModel) setResult(cr *cluster.Credentials) {
	m.Username = types.StringValue(cr.Username)
	m.Password = types.StringValue(cr.Password)
	m.ExpiresAt = types.StringValue(cr.Expires.UTC().Format(time.RFC3339))
	m.Host = types.StringValue(cr.Address)
	if v := m.Address.ValueString(); v != "" {
		m.Host = types.StringValue(v)
	}
	if m.Port.IsNull() || m.Port.IsUnknown() {
		m.Port = types.Int64Value(defaultCredentialsPort)
	}
}
