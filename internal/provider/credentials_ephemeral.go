package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ ephemeral.EphemeralResource                   = (*credentialsEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithConfigure      = (*credentialsEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*credentialsEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithClose          = (*credentialsEphemeral)(nil)
)

// NewCredentialsEphemeral is the pxc_credentials ephemeral resource.
func NewCredentialsEphemeral() ephemeral.EphemeralResource { return &credentialsEphemeral{} }

type credentialsEphemeral struct {
	data *ProviderData
}

func (e *credentialsEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credentials"
}

func (e *credentialsEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = credentialsEphemeralSchema()
}

func (e *credentialsEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	e.data = data
}

func (e *credentialsEphemeral) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	var m credentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.request(&resp.Diagnostics)
	if m.SSHHostKeyCheck.ValueString() == cluster.HostKeyKnownHosts && m.SSHKnownHostsFile.IsNull() {
		resp.Diagnostics.Append(missingKnownHostsFileDiagnostic())
	}
}

func (e *credentialsEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r := m.request(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	access := m.access()
	ctx = maskSecrets(ctx, access.RootPassword, access.SSH.PrivateKey)
	mgr := clusterManager(e.data, "open temporary credentials", &resp.Diagnostics)
	if mgr == nil {
		return
	}
	id := m.ClusterID.ValueString()
	cr, err := mgr.OpenCredentials(ctx, id, access, r)
	if err != nil {
		resp.Diagnostics.Append(openCredentialsFailed(id, err))
		return
	}
	ctx = maskSecrets(ctx, cr.Password)
	m.setResult(cr)
	tflog.Debug(ctx, "opened a temporary account", map[string]any{"cluster_id": id, "username": cr.Username, "expires_at": m.ExpiresAt.ValueString()})
	handle, err := openAccounts.add(openAccount{clusterID: id, username: cr.Username, access: access})
	if err == nil {
		var b []byte
		b, err = json.Marshal(credentialsPrivate{Handle: handle, ClusterID: id, Username: cr.Username})
		if err == nil {
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, credentialsPrivateKey, b)...)
		}
	}
	if err != nil {
		resp.Diagnostics.AddWarning("Temporary Account Will Expire Instead Of Closing",
			fmt.Sprintf("Account %s could not be registered for closing (%v); it stays until %s, when the next open drops it.", cr.Username, err, m.ExpiresAt.ValueString()))
	}
	credentialsOpened(cr.Username, cr.Password)
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

func (e *credentialsEphemeral) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	raw, d := req.Private.GetKey(ctx, credentialsPrivateKey)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() || raw == nil {
		return
	}
	var p credentialsPrivate
	if err := json.Unmarshal(raw, &p); err != nil {
		resp.Diagnostics.AddError("Error Closing Temporary Credentials", "The private data of pxc_credentials is unreadable; this is a bug in the provider.\n\nOriginal Error: "+err.Error())
		return
	}
	acct, ok := openAccounts.take(p.Handle)
	if !ok {
		resp.Diagnostics.AddWarning("Temporary Account Left To Expire",
			fmt.Sprintf("Account %s on cluster %s was opened by another provider process, so this one lacks the secrets to drop it; the next open after its expiry drops it.", p.Username, p.ClusterID))
		return
	}
	ctx = maskSecrets(ctx, acct.access.RootPassword, acct.access.SSH.PrivateKey)
	mgr := clusterManager(e.data, "close temporary credentials", &resp.Diagnostics)
	if mgr == nil {
		return
	}
	if err := mgr.CloseCredentials(ctx, acct.clusterID, acct.access, acct.username); err != nil {
		resp.Diagnostics.Append(closeCredentialsFailed(acct.clusterID, acct.username, err))
	}
}

func openCredentialsFailed(id string, err error) diag.Diagnostic {
	advice := "Check that the cluster is ACTIVE (data.pxc_cluster shows each node's state) and that root_password and ssh_private_key are the cluster's."
	if errors.Is(err, cluster.ErrNotFound) {
		advice = "No servers carry this cluster id; check cluster_id."
	}
	return diag.NewErrorDiagnostic("Error Opening Temporary Credentials",
		fmt.Sprintf("While creating a temporary account on cluster %s: %s\n\nOriginal Error: %v", id, advice, err))
}

func closeCredentialsFailed(id, username string, err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Temporary Account Not Dropped",
		fmt.Sprintf("While dropping account %s on cluster %s the cluster did not answer; the account stays until its expiry (in its name), "+
			"after which the next open of pxc_credentials drops it.\n\nOriginal Error: %v", username, id, err))
}

// The private data Terraform hands back to Close holds no secret: only a
// handle to what this provider process keeps in memory between Open and
// Close, which Terraform runs in the same process.
const credentialsPrivateKey = "credentials"

type credentialsPrivate struct {
	Handle    string `json:"handle"`
	ClusterID string `json:"cluster_id"`
	Username  string `json:"username"`
}

type openAccount struct {
	clusterID string
	username  string
	access    cluster.Spec
}

type accountRegistry struct {
	mu   sync.Mutex
	open map[string]openAccount
}

var openAccounts = &accountRegistry{open: map[string]openAccount{}}

func (r *accountRegistry) add(a openAccount) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open[h] = a
	return h, nil
}

func (r *accountRegistry) take(handle string) (openAccount, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.open[handle]
	delete(r.open, handle)
	return a, ok
}

// credentialsOpened lets the acceptance test learn every password handed
// out, to prove none reaches a plan or state. Nothing else sets it.
var credentialsOpened = func(username, password string) {}
