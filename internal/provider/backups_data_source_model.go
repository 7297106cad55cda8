package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// backupsModel is the pxc_backups data source.
type backupsModel struct {
	ClusterID         types.String      `tfsdk:"cluster_id"`
	Backup            *backupStoreModel `tfsdk:"backup"`
	RootPassword      types.String      `tfsdk:"root_password"`
	SSHPrivateKey     types.String      `tfsdk:"ssh_private_key"`
	SSHUser           types.String      `tfsdk:"ssh_user"`
	SSHHostKeyCheck   types.String      `tfsdk:"ssh_host_key_check"`
	SSHKnownHostsFile types.String      `tfsdk:"ssh_known_hosts_file"`
	Backups           []backupListModel `tfsdk:"backups"`
}

type backupListModel struct {
	ID            types.String `tfsdk:"id"`
	Time          types.String `tfsdk:"time"`
	Node          types.String `tfsdk:"node"`
	SourceCluster types.String `tfsdk:"source_cluster"`
}

func (m *backupsModel) setList(list []cluster.Backup) {
	m.Backups = make([]backupListModel, 0, len(list))
	for _, b := range list {
		m.Backups = append(m.Backups, backupListModel{
			ID: types.StringValue(b.ID), Time: types.StringValue(b.Time.UTC().Format(time.RFC3339)),
			Node: types.StringValue(b.Node), SourceCluster: types.StringValue(b.Cluster),
		})
	}
}
