package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Phases of backups: a create's seeding of its first node from a backup,
// and installing the backup schedule.
const (
	PhaseRestore = "restore"
	PhaseBackup  = "backup schedule"
)

// RestoreSpec says which backup a new cluster starts from.
type RestoreSpec struct {
	BackupStore
	// BackupID is the backup (an id prefix of 8+ hex digits); empty: the
	// newest in the container.
	BackupID string
}

// Restored is what a create restored from.
type Restored struct {
	BackupID, Cluster string
	Time              time.Time
}

// seedFromBackup makes the first node's datadir the backup before the
// create sequence bootstraps from it; the others join by SST. The
// credential it may create for the container is deleted after.
func (b *build) seedFromBackup(ctx context.Context, gc GuestCluster) error {
	r := b.spec.RestoreFrom
	if r == nil {
		return nil
	}
	t := time.Now()
	store := r.BackupStore
	if store.Key == "" {
		return &PhaseError{Phase: PhaseRestore, Err: errors.New("restore_from.key is required: it decrypts the backup")}
	}
	created, err := b.m.completeStore(ctx, &store, ObjectName(b.c.Name, b.c.ID)+"-restore")
	if err != nil {
		return &PhaseError{Phase: PhaseRestore, Err: err}
	}
	defer func() {
		if err := b.m.deleteCredential(context.WithoutCancel(ctx), created); err != nil {
			b.m.log.Warn(ctx, "delete the restore's object-store credential: "+err.Error())
		}
	}()
	g, err := backupsOf(gc)
	if err != nil {
		return &PhaseError{Phase: PhaseRestore, Err: err}
	}
	repo := store.repository()
	found, err := g.FindBackup(ctx, repo, r.BackupID)
	if err != nil {
		return &PhaseError{Phase: PhaseRestore, Node: b.c.Nodes[0].Name, Err: err}
	}
	if err := g.SeedFromBackup(ctx, repo, found.ID, found.Cluster); err != nil {
		return &PhaseError{Phase: PhaseRestore, Node: b.c.Nodes[0].Name, Err: err}
	}
	b.c.Restored = &Restored{BackupID: found.ID, Cluster: found.Cluster, Time: found.Time}
	b.m.progress(ctx, PhaseRestore, b.c.Nodes[0].Name, fmt.Sprintf("seeded from backup %s of cluster %s taken %s", found.ID[:8], found.Cluster, found.Time.Format(time.RFC3339)), t)
	return nil
}

// backupSetup completes the cluster's backup store (key, credential) and
// records it on the cluster before any server exists, so a failed create
// still knows the credential it must delete.
func (b *build) backupSetup(ctx context.Context) error {
	if b.spec.Backup == nil {
		return nil
	}
	store := b.spec.Backup.BackupStore
	created, err := b.m.completeStore(ctx, &store, ObjectName(b.c.Name, b.c.ID)+"-backup")
	b.c.BackupCredentialID = created
	if err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: fmt.Errorf("backup credentials: %w", err)}
	}
	b.spec.Backup.BackupStore = store
	b.c.BackupStore = &store
	return nil
}

// restoreFailed says whether a create failed restoring its backup.
func restoreFailed(err error) bool {
	var pe *PhaseError
	return errors.As(err, &pe) && pe.Phase == PhaseRestore
}

// undoFailedRestore removes everything a create made when its restore
// failed (a cluster that never held the backup's data is of no use) and
// returns no cluster; when that removal fails, it returns the cluster so
// the caller records it and a destroy finishes the job.
func (m *Manager) undoFailedRestore(ctx context.Context, c *Cluster, err error) (*Cluster, error) {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if derr := m.Delete(ctx, c.ID, *c); derr != nil {
		errs = append(errs, derr)
	}
	if derr := m.deleteCredential(ctx, c.BackupCredentialID); derr != nil {
		errs = append(errs, derr)
	}
	if len(errs) > 0 {
		return c, errors.Join(err, fmt.Errorf("and removing what the create made failed: %w", errors.Join(errs...)))
	}
	return nil, err
}
