package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

var (
	_ datasource.DataSource              = (*backupsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*backupsDataSource)(nil)
)

// NewBackupsDataSource is the pxc_backups data source.
func NewBackupsDataSource() datasource.DataSource { return &backupsDataSource{} }

type backupsDataSource struct {
	data *ProviderData
}

func (d *backupsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backups"
}

func (d *backupsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = backupsDataSourceSchema()
}

func (d *backupsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *backupsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m backupsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Backup == nil {
		return
	}
	store := m.Backup.store(path.Root("backup"), &resp.Diagnostics)
	if store.Key == "" {
		resp.Diagnostics.Append(invalidBackupDiagnostic(path.Root("backup").AtName("key"), errMissingBackupKey))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	access := clusterAccess(m.RootPassword, m.SSHPrivateKey, m.SSHUser, m.SSHHostKeyCheck, m.SSHKnownHostsFile)
	ctx = maskBackupAccess(ctx, access, store)
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	id := m.ClusterID.ValueString()
	mgr := clusterManager(d.data, "list the backups of cluster "+id, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	list, err := mgr.ListBackups(ctx, id, access, store)
	if err != nil {
		resp.Diagnostics.Append(backupFailed("list the backups of cluster "+id, err))
		return
	}
	m.setList(list)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
