package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// pxc_cluster's backup and restore_from blocks.

var (
	regexpContainer = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)
	regexpBackupID  = regexp.MustCompile(`^[0-9a-f]{8,64}$`)
)

// restoreModel is pxc_cluster.restore_from.
type restoreModel struct {
	Container                   types.String `tfsdk:"container"`
	BackupID                    types.String `tfsdk:"backup_id"`
	Latest                      types.Bool   `tfsdk:"latest"`
	Key                         types.String `tfsdk:"key"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	Region                      types.String `tfsdk:"region"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	S3Endpoint                  types.String `tfsdk:"s3_endpoint"`
	S3AccessKey                 types.String `tfsdk:"s3_access_key"`
	S3SecretKey                 types.String `tfsdk:"s3_secret_key"`
}

func clusterBackupAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Backups to the object store: physical (`mariabackup --backup --stream`, xtrabackup for Percona) streamed into a " +
			"[restic](https://restic.net) repository without a local copy, compressed, deduplicated across backups and encrypted on the node, " +
			"verified by reading each back (SHA-256 of the stream). Taken from a Synced node that is not the writer. Changes in place " +
			"(the nodes' job is rewritten). See the backups guide for the comparison that chose restic.",
		Attributes: backupStoreAttributes(true),
	}
}

func clusterRestoreAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Create the cluster from a backup: the first node's datadir is restored (prepared, moved back), then it bootstraps the " +
			"new cluster and the others join by SST. Read only at create: changing it later does nothing to a running cluster (never overwrites it). " +
			"A corrupt or truncated backup or a wrong key fails the create and removes everything it made.",
		Attributes: map[string]schema.Attribute{
			"container": schema.StringAttribute{Required: true, Validators: []validator.String{containerValidator},
				MarkdownDescription: "The container (or S3 bucket) holding the backups."},
			"backup_id": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Validators:    []validator.String{stringvalidator.RegexMatches(regexpBackupID, "must be a backup id (8 to 64 lower-case hex digits)")},
				MarkdownDescription: "The backup to restore (`pxc_backup.<name>.id` or a prefix of 8+ digits). With `latest`, the id of the backup " +
					"that was restored."},
			"latest": schema.BoolAttribute{Optional: true, MarkdownDescription: "Restore the newest backup in the container instead of `backup_id`."},
			"key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The repository key the backups were encrypted with (`pxc_cluster.<source>.backup.key`)."},
			"auth_url":                      schema.StringAttribute{Optional: true, MarkdownDescription: "Keystone's URL as the servers reach it. Omitted: the provider's."},
			"region":                        schema.StringAttribute{Optional: true, MarkdownDescription: "Region of the object store. Omitted: the provider's."},
			"application_credential_id":     schema.StringAttribute{Optional: true, MarkdownDescription: "Omitted: a credential limited to `container` is created for the restore and deleted after it."},
			"application_credential_secret": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The application credential's secret."},
			"s3_endpoint":                   schema.StringAttribute{Optional: true, MarkdownDescription: "An S3-compatible store instead of Swift."},
			"s3_access_key":                 schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The S3 access key."},
			"s3_secret_key":                 schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The S3 secret key."},
		},
	}
}

// validateBackupConfig checks backup and restore_from at validate time.
func validateBackupConfig(m *clusterModel, diags *diag.Diagnostics) {
	if r := m.RestoreFrom; r != nil && !r.Latest.IsUnknown() && !r.BackupID.IsUnknown() {
		latest := r.Latest.ValueBool()
		if latest == !r.BackupID.IsNull() {
			diags.Append(restoreChoiceDiagnostic(path.Root("restore_from")))
		}
	}
	if b := m.Backup; b != nil && !b.Schedule.IsUnknown() {
		var d diag.Diagnostics
		b.spec(path.Root("backup"), &d)
		for _, e := range d {
			if e.Severity() == diag.SeverityError {
				if _, ok := e.(diag.DiagnosticWithPath); ok {
					diags.Append(e)
				}
			}
		}
	}
}

// backupSpecs adds backup and restore_from to a cluster spec.
func (m *clusterModel) backupSpecs(s *cluster.Spec, diags *diag.Diagnostics) {
	if m.Backup != nil {
		bs := m.Backup.spec(path.Root("backup"), diags)
		s.Backup = &bs
	}
	if r := m.RestoreFrom; r != nil {
		rs := &cluster.RestoreSpec{BackupStore: cluster.BackupStore{
			Container: r.Container.ValueString(), Key: r.Key.ValueString(),
			AuthURL: r.AuthURL.ValueString(), Region: r.Region.ValueString(),
			ApplicationCredentialID: r.ApplicationCredentialID.ValueString(), ApplicationCredentialSecret: r.ApplicationCredentialSecret.ValueString(),
			S3Endpoint: r.S3Endpoint.ValueString(), S3AccessKey: r.S3AccessKey.ValueString(), S3SecretKey: r.S3SecretKey.ValueString(),
		}}
		if !r.Latest.ValueBool() && !r.BackupID.IsUnknown() {
			rs.BackupID = r.BackupID.ValueString()
		}
		if err := rs.Validate(); err != nil {
			diags.Append(invalidBackupDiagnostic(path.Root("restore_from"), err))
		}
		s.RestoreFrom = rs
	}
}

// applyBackupCreated records the completed store and the restored backup.
func (m *clusterModel) applyBackupCreated(c *cluster.Cluster) {
	if m.Backup != nil && c.BackupStore != nil {
		m.Backup.setCompleted(c.BackupStore)
	}
	if m.RestoreFrom != nil {
		id := ""
		if c.Restored != nil {
			id = c.Restored.BackupID
		}
		if m.RestoreFrom.BackupID.IsUnknown() || id != "" {
			m.RestoreFrom.BackupID = types.StringValue(id)
		}
	}
}

// backupCredentialKey is the private-state key of the credential the
// cluster created for its container (deleted with it).
const backupCredentialKey = "backup_credential"

// setBackupSchedule applies a changed backup block: the store is completed
// (a key, a credential when the block is new) and the job rewritten.
func setBackupSchedule(ctx context.Context, mgr *cluster.Manager, id string, spec cluster.Spec, plan, state *clusterModel) (created string, err error) {
	if spec.Backup != nil && state.Backup != nil {
		// Keep what the cluster filled in before.
		if spec.Backup.Key == "" {
			spec.Backup.Key = state.Backup.Key.ValueString()
		}
		if spec.Backup.ApplicationCredentialID == "" && spec.Backup.Container == state.Backup.Container.ValueString() {
			spec.Backup.ApplicationCredentialID = state.Backup.ApplicationCredentialID.ValueString()
			spec.Backup.ApplicationCredentialSecret = state.Backup.ApplicationCredentialSecret.ValueString()
		}
	}
	store, created, err := mgr.SetBackupSchedule(ctx, id, spec)
	if err == nil && plan.Backup != nil && store != nil {
		plan.Backup.setCompleted(store)
	}
	return created, err
}

// backupChanged says whether the backup block changed (a key or
// credential still unknown in the plan is the state's, not a change).
func backupChanged(plan, state *backupStoreModel) bool {
	if plan == nil || state == nil {
		return (plan == nil) != (state == nil)
	}
	same := func(a, b types.String) bool { return a.IsUnknown() || a.Equal(b) }
	return !plan.Container.Equal(state.Container) || !plan.Schedule.Equal(state.Schedule) || !plan.Retention.Equal(state.Retention) || !plan.RetentionDays.Equal(state.RetentionDays) ||
		!same(plan.Key, state.Key) || !plan.AuthURL.Equal(state.AuthURL) || !plan.Region.Equal(state.Region) ||
		!same(plan.ApplicationCredentialID, state.ApplicationCredentialID) || !same(plan.ApplicationCredentialSecret, state.ApplicationCredentialSecret) ||
		!plan.S3Endpoint.Equal(state.S3Endpoint) || !plan.S3AccessKey.Equal(state.S3AccessKey) || !plan.S3SecretKey.Equal(state.S3SecretKey)
}

type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

func saveBackupCredential(ctx context.Context, p privateSetter, id string) diag.Diagnostics {
	if id == "" {
		return nil
	}
	b, _ := json.Marshal(id)
	return p.SetKey(ctx, backupCredentialKey, b)
}

func loadBackupCredential(ctx context.Context, p privateGetter) (string, diag.Diagnostics) {
	b, diags := p.GetKey(ctx, backupCredentialKey)
	var id string
	if len(b) > 0 {
		_ = json.Unmarshal(b, &id)
	}
	return id, diags
}

// replaceBackupCredential deletes the credential the cluster created
// before, when a new one replaced it or the backup block was removed.
func replaceBackupCredential(ctx context.Context, mgr *cluster.Manager, old privateGetter, p privateSetter, created string, removed bool) diag.Diagnostics {
	prev, diags := loadBackupCredential(ctx, old)
	if created == "" && !removed {
		return diags
	}
	if prev != "" && prev != created {
		if err := mgr.DeleteBackupCredential(ctx, prev); err != nil {
			diags.AddWarning("Old Backup Credential Not Deleted", fmt.Sprintf("The application credential %s the cluster no longer uses could not be deleted: %v. Delete it with `openstack application credential delete %s`.", prev, err, prev))
		}
	}
	if created == "" {
		return append(diags, p.SetKey(ctx, backupCredentialKey, nil)...)
	}
	return append(diags, saveBackupCredential(ctx, p, created)...)
}

// backupSecrets are the secrets of a spec's backup and restore stores.
func backupSecrets(s cluster.Spec) []string {
	var out []string
	if s.Backup != nil {
		out = append(out, storeSecrets(s.Backup.BackupStore)...)
	}
	if s.RestoreFrom != nil {
		out = append(out, storeSecrets(s.RestoreFrom.BackupStore)...)
	}
	return out
}

// storeSecrets are what must never reach a log of one backup store.
func storeSecrets(b cluster.BackupStore) []string {
	return []string{b.Key, b.ApplicationCredentialSecret, b.S3SecretKey, b.S3AccessKey}
}

// maskBackupAccess masks the secrets a pxc_backup or pxc_backups call
// carries: the cluster's root password and SSH key, and the store's.
func maskBackupAccess(ctx context.Context, access cluster.Spec, store cluster.BackupStore) context.Context {
	return maskSecrets(ctx, append(storeSecrets(store), access.RootPassword, access.SSH.PrivateKey)...)
}
