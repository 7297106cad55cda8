package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// backupModel is pxc_backup's configuration and state.
type backupModel struct {
	ID                types.String      `tfsdk:"id"`
	ClusterID         types.String      `tfsdk:"cluster_id"`
	Backup            *backupStoreModel `tfsdk:"backup"`
	RootPassword      types.String      `tfsdk:"root_password"`
	SSHPrivateKey     types.String      `tfsdk:"ssh_private_key"`
	SSHUser           types.String      `tfsdk:"ssh_user"`
	SSHHostKeyCheck   types.String      `tfsdk:"ssh_host_key_check"`
	SSHKnownHostsFile types.String      `tfsdk:"ssh_known_hosts_file"`
	Node              types.String      `tfsdk:"node"`
	RetainOnDestroy   types.Bool        `tfsdk:"retain_on_destroy"`
	Time              types.String      `tfsdk:"time"`
	Size              types.Int64       `tfsdk:"size"`
	StoredSize        types.Int64       `tfsdk:"stored_size"`
	SHA256            types.String      `tfsdk:"sha256"`
	GTIDPosition      types.String      `tfsdk:"gtid_position"`
	SourceCluster     types.String      `tfsdk:"source_cluster"`
	Status            types.String      `tfsdk:"status"`
}

// clusterAccess is what reaching a cluster's nodes takes, given as
// pxc_backup and pxc_backups attributes.
func clusterAccess(rootPassword, key, user, check, knownHosts types.String) cluster.Spec {
	s := cluster.Spec{
		RootPassword: rootPassword.ValueString(),
		SSH: cluster.SSHSpec{User: user.ValueString(), PrivateKey: key.ValueString(),
			HostKeyCheck: check.ValueString(), KnownHostsFile: knownHosts.ValueString()},
	}
	if s.SSH.User == "" {
		s.SSH.User = "root"
	}
	if s.SSH.HostKeyCheck == "" {
		s.SSH.HostKeyCheck = cluster.HostKeyConsole
	}
	return s
}

func (m *backupModel) access() cluster.Spec {
	return clusterAccess(m.RootPassword, m.SSHPrivateKey, m.SSHUser, m.SSHHostKeyCheck, m.SSHKnownHostsFile)
}

func (m *backupModel) store(diags *diag.Diagnostics) cluster.BackupStore {
	if m.Backup == nil {
		return cluster.BackupStore{}
	}
	s := m.Backup.store(path.Root("backup"), diags)
	if s.Key == "" {
		diags.Append(invalidBackupDiagnostic(path.Root("backup").AtName("key"), errMissingBackupKey))
	}
	return s
}

// setTaken records a backup just taken.
func (m *backupModel) setTaken(b cluster.Backup) {
	m.ID = types.StringValue(b.ID)
	m.Node = types.StringValue(b.Node)
	m.Time = types.StringValue(b.Time.UTC().Format(time.RFC3339))
	m.Size = types.Int64Value(b.Bytes)
	m.StoredSize = types.Int64Value(b.Added)
	m.SHA256 = types.StringValue(b.SHA256)
	m.GTIDPosition = types.StringValue(b.GTID)
	m.SourceCluster = types.StringValue(b.Cluster)
	m.Status = types.StringValue("verified")
}

// setListed records what a listing says of a backup.
func (m *backupModel) setListed(b cluster.Backup) {
	m.Status = types.StringValue("available")
	if m.Time.IsNull() || m.Time.ValueString() == "" {
		m.Time = types.StringValue(b.Time.UTC().Format(time.RFC3339))
	}
}
