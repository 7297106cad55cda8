package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// backupStoreModel is a backup repository as pxc_cluster.backup, pxc_backup.backup
// and pxc_backups.backup hold it: the same attributes, so
// `backup = pxc_cluster.<name>.backup` passes a cluster's store on whole.
type backupStoreModel struct {
	Container                   types.String `tfsdk:"container"`
	Schedule                    types.String `tfsdk:"schedule"`
	Retention                   types.Int64  `tfsdk:"retention"`
	RetentionDays               types.Int64  `tfsdk:"retention_days"`
	Key                         types.String `tfsdk:"key"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	Region                      types.String `tfsdk:"region"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	S3Endpoint                  types.String `tfsdk:"s3_endpoint"`
	S3AccessKey                 types.String `tfsdk:"s3_access_key"`
	S3SecretKey                 types.String `tfsdk:"s3_secret_key"`
}

const (
	backupKeyDescription = "The repository key: every object is encrypted with it on the node before upload. Generated (40 random characters) when omitted; " +
		"**losing it loses the backups**, so keep it outside this state too."
	backupCredentialDescription = "A Keystone application credential for the object store. Omitted: the cluster creates one whose access rules allow only " +
		"`GET`, `HEAD`, `PUT` and `DELETE` on `container` (nothing else in the project), and deletes it with the cluster."
)

var containerValidator = stringvalidator.RegexMatches(regexpContainer, "must be a Swift container name: letters, digits, '.', '_' or '-'")

// backupStoreAttributes is pxc_cluster.backup's schema; computed says the
// key and credential are filled in by the cluster.
func backupStoreAttributes(computed bool) map[string]schema.Attribute {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	if !computed {
		keep = nil
	}
	return map[string]schema.Attribute{
		"container": schema.StringAttribute{Required: true, Validators: []validator.String{containerValidator},
			MarkdownDescription: "Object-store container (or S3 bucket) holding the restic repository; one repository, and one key, per container."},
		"schedule": schema.StringAttribute{Optional: true,
			MarkdownDescription: "How often the nodes back up on their own, a Go duration of at least `10s` (e.g. `24h`): a systemd timer on every node where systemd runs, " +
				"otherwise a detached loop; at each run one node acts, the first Synced member that is not the writer. Omitted: on demand only (`pxc_backup`)."},
		"retention": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.AtLeast(1)},
			MarkdownDescription: "How many of the cluster's newest backups the schedule keeps; the others are pruned after each verified backup unless `retention_days` keeps them. Omitted (with `retention_days`): all."},
		"retention_days": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.AtLeast(1)},
			MarkdownDescription: "For how many days the schedule keeps every backup (restic's `--keep-within`); with `retention` as well, a backup stays when either keeps it. Omitted (with `retention`): all."},
		"key": schema.StringAttribute{Optional: true, Computed: computed, Sensitive: true, PlanModifiers: keep,
			MarkdownDescription: backupKeyDescription},
		"auth_url": schema.StringAttribute{Optional: true,
			MarkdownDescription: "Keystone's URL as the servers reach it. Omitted: the provider's `auth_url`."},
		"region": schema.StringAttribute{Optional: true, MarkdownDescription: "Region of the object store. Omitted: the provider's."},
		"application_credential_id": schema.StringAttribute{Optional: true, Computed: computed, PlanModifiers: keep,
			MarkdownDescription: backupCredentialDescription},
		"application_credential_secret": schema.StringAttribute{Optional: true, Computed: computed, Sensitive: true, PlanModifiers: keep,
			MarkdownDescription: "The application credential's secret."},
		"s3_endpoint": schema.StringAttribute{Optional: true,
			MarkdownDescription: "An S3-compatible store instead of Swift, e.g. `https://s3.example.com`; `container` is then the bucket."},
		"s3_access_key": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The S3 access key."},
		"s3_secret_key": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The S3 secret key."},
	}
}

// backupStoreDataSourceAttributes is the same store in a data source.
func backupStoreDataSourceAttributes() map[string]dsschema.Attribute {
	out := map[string]dsschema.Attribute{}
	for name, a := range backupStoreAttributes(false) {
		switch a := a.(type) {
		case schema.StringAttribute:
			out[name] = dsschema.StringAttribute{Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive,
				MarkdownDescription: a.MarkdownDescription, Validators: a.Validators}
		case schema.Int64Attribute:
			out[name] = dsschema.Int64Attribute{Optional: a.Optional, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators}
		}
	}
	return out
}

// store reads the repository; bad values are reported at their path under at.
func (m *backupStoreModel) store(at path.Path, diags *diag.Diagnostics) cluster.BackupStore {
	s := cluster.BackupStore{
		Container:                   m.Container.ValueString(),
		Key:                         m.Key.ValueString(),
		AuthURL:                     m.AuthURL.ValueString(),
		Region:                      m.Region.ValueString(),
		ApplicationCredentialID:     m.ApplicationCredentialID.ValueString(),
		ApplicationCredentialSecret: m.ApplicationCredentialSecret.ValueString(),
		S3Endpoint:                  m.S3Endpoint.ValueString(),
		S3AccessKey:                 m.S3AccessKey.ValueString(),
		S3SecretKey:                 m.S3SecretKey.ValueString(),
	}
	if m.ApplicationCredentialID.IsUnknown() {
		s.ApplicationCredentialID, s.ApplicationCredentialSecret = "", ""
	}
	if err := s.Validate(); err != nil {
		diags.Append(invalidBackupDiagnostic(at, err))
	}
	return s
}

// spec reads the store and its schedule.
func (m *backupStoreModel) spec(at path.Path, diags *diag.Diagnostics) cluster.BackupSpec {
	bs := cluster.BackupSpec{BackupStore: m.store(at, diags), Keep: int(m.Retention.ValueInt64()), KeepDays: int(m.RetentionDays.ValueInt64())}
	if v := m.Schedule.ValueString(); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			diags.Append(invalidBackupScheduleDiagnostic(at.AtName("schedule"), v))
		}
		bs.Interval = d
	}
	return bs
}

// setCompleted records what the cluster filled in.
func (m *backupStoreModel) setCompleted(s *cluster.BackupStore) {
	m.Key = types.StringValue(s.Key)
	m.ApplicationCredentialID = types.StringValue(s.ApplicationCredentialID)
	m.ApplicationCredentialSecret = types.StringValue(s.ApplicationCredentialSecret)
}
