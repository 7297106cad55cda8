package cluster

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// BackupStore is where a cluster's backups live: one restic repository per
// container (Swift through Keystone, or an S3-compatible bucket), every
// object encrypted on the node with Key.
type BackupStore struct {
	Container string
	// Key encrypts the repository; sensitive. Losing it loses the backups.
	Key string
	// Swift: AuthURL is Keystone as the servers reach it (empty: the
	// provider's); the application credential is limited to the container
	// (created by the cluster when empty).
	AuthURL                     string
	Region                      string
	ApplicationCredentialID     string
	ApplicationCredentialSecret string // sensitive
	// S3-compatible store: set Endpoint and the keys instead.
	S3Endpoint, S3AccessKey, S3SecretKey string
}

// BackupSpec is a cluster's scheduled backups.
type BackupSpec struct {
	BackupStore
	// Interval between scheduled backups; zero: on demand only.
	Interval time.Duration
	// Keep is how many of the newest backups the schedule keeps, KeepDays
	// for how many days it keeps every backup (both 0: all).
	Keep, KeepDays int
}

// Backup is one backup as the repository records it.
type Backup struct {
	ID, Cluster, Node string
	Time              time.Time
	Bytes, Added      int64 // known only when just taken
	SHA256, GTID      string
}

var containerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)

// S3 reports whether the store is S3-compatible rather than Swift.
func (s BackupStore) S3() bool { return s.S3Endpoint != "" }

// Validate checks a store before anything is created.
func (s BackupStore) Validate() error {
	var errs []error
	if !containerName.MatchString(s.Container) {
		errs = append(errs, fmt.Errorf("container %q: use letters, digits, '.', '_' or '-'", s.Container))
	}
	if s.S3() && (s.S3AccessKey == "" || s.S3SecretKey == "") {
		errs = append(errs, errors.New("an S3 store needs access_key and secret_key"))
	}
	if (s.ApplicationCredentialID == "") != (s.ApplicationCredentialSecret == "") {
		errs = append(errs, errors.New("give both application_credential_id and application_credential_secret, or neither"))
	}
	return errors.Join(errs...)
}

// repository is the guest library's view of the store.
func (s BackupStore) repository() guest.BackupRepository {
	if s.S3() {
		return guest.BackupRepository{
			Repository: "s3:" + strings.TrimSuffix(s.S3Endpoint, "/") + "/" + s.Container,
			Password:   s.Key,
			Env:        map[string]string{"AWS_ACCESS_KEY_ID": s.S3AccessKey, "AWS_SECRET_ACCESS_KEY": s.S3SecretKey},
		}
	}
	env := map[string]string{
		"OS_AUTH_URL":                      s.AuthURL,
		"OS_APPLICATION_CREDENTIAL_ID":     s.ApplicationCredentialID,
		"OS_APPLICATION_CREDENTIAL_SECRET": s.ApplicationCredentialSecret,
	}
	if s.Region != "" {
		env["OS_REGION_NAME"] = s.Region
	}
	return guest.BackupRepository{Repository: "swift:" + s.Container + ":/", Password: s.Key, Env: env}
}

// BackupCredentials is what the cloud does for backups: Keystone
// application credentials limited to one container.
type BackupCredentials interface {
	CreateContainerCredential(ctx context.Context, name, container string) (openstack.ApplicationCredential, error)
	DeleteApplicationCredential(ctx context.Context, id string) error
	// IdentityURL is Keystone's URL and region as the provider reaches them.
	IdentityURL() (url, region string)
}

// completeStore fills what a Swift store lacks: a key, Keystone's URL, and
// a credential limited to the container (name says whose). It returns the
// credential it created (empty when none), which the caller must delete
// when it is no longer used.
func (m *Manager) completeStore(ctx context.Context, s *BackupStore, name string) (created string, err error) {
	if s.Key == "" {
		if s.Key, err = GeneratePassword(40); err != nil {
			return "", err
		}
	}
	if s.S3() {
		return "", nil
	}
	bc, ok := m.cloud.(BackupCredentials)
	if !ok {
		return "", errors.New("this cloud cannot issue object-store credentials: give application_credential_id and _secret")
	}
	url, region := bc.IdentityURL()
	if s.AuthURL == "" {
		s.AuthURL = url
	}
	if s.Region == "" {
		s.Region = region
	}
	if s.ApplicationCredentialID != "" {
		return "", nil
	}
	ac, err := bc.CreateContainerCredential(ctx, name, s.Container)
	if err != nil {
		return "", err
	}
	s.ApplicationCredentialID, s.ApplicationCredentialSecret = ac.ID, ac.Secret
	return ac.ID, nil
}

// deleteCredential deletes a credential the cluster created.
func (m *Manager) deleteCredential(ctx context.Context, id string) error {
	bc, ok := m.cloud.(BackupCredentials)
	if !ok || id == "" {
		return nil
	}
	return bc.DeleteApplicationCredential(ctx, id)
}

// guestBackups is the part of *guest.Cluster that backs up and restores.
type guestBackups interface {
	Backup(ctx context.Context, repo guest.BackupRepository, opts guest.BackupOptions) (guest.BackupInfo, error)
	Backups(ctx context.Context, repo guest.BackupRepository) ([]guest.BackupInfo, error)
	DeleteBackup(ctx context.Context, repo guest.BackupRepository, id string) error
	PruneBackups(ctx context.Context, repo guest.BackupRepository, keep guest.Retention) error
	EnsureBackupSchedule(ctx context.Context, s guest.BackupSchedule) error
	RemoveBackupSchedule(ctx context.Context) error
	FindBackup(ctx context.Context, repo guest.BackupRepository, id string) (guest.BackupInfo, error)
	SeedFromBackup(ctx context.Context, repo guest.BackupRepository, snapshotID, fromCluster string) error
}

// The guest library's cluster takes backups: checked when building, not
// first found out by a user's apply.
var _ guestBackups = (*guest.Cluster)(nil)

func backupsOf(gc GuestCluster) (guestBackups, error) {
	b, ok := gc.(guestBackups)
	if !ok {
		return nil, errors.New("the guest library cannot take backups (a bug in the provider)")
	}
	return b, nil
}

func backupFrom(b guest.BackupInfo) Backup {
	return Backup{ID: b.ID, Cluster: b.Cluster, Node: b.Node, Time: b.Time, Bytes: b.Bytes, Added: b.Added, SHA256: b.SHA256, GTID: b.GTID}
}

// TakeBackup takes one verified backup of the cluster from a Synced node
// that is not the writer (or from node, when given).
func (m *Manager) TakeBackup(ctx context.Context, id string, spec Spec, store BackupStore, node string) (Backup, error) {
	_, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return Backup{}, err
	}
	defer gc.Close()
	b, err := backupsOf(gc)
	if err != nil {
		return Backup{}, err
	}
	info, err := b.Backup(ctx, store.repository(), guest.BackupOptions{Node: node})
	if err != nil {
		return Backup{}, err
	}
	return backupFrom(info), nil
}

// ListBackups lists the cluster's backups, oldest first.
func (m *Manager) ListBackups(ctx context.Context, id string, spec Spec, store BackupStore) ([]Backup, error) {
	_, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return nil, err
	}
	defer gc.Close()
	b, err := backupsOf(gc)
	if err != nil {
		return nil, err
	}
	list, err := b.Backups(ctx, store.repository())
	if err != nil {
		return nil, err
	}
	out := make([]Backup, 0, len(list))
	for _, i := range list {
		out = append(out, backupFrom(i))
	}
	return out, nil
}

// DeleteBackup deletes one backup of the cluster.
func (m *Manager) DeleteBackup(ctx context.Context, id string, spec Spec, store BackupStore, backupID string) error {
	_, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return err
	}
	defer gc.Close()
	b, err := backupsOf(gc)
	if err != nil {
		return err
	}
	return b.DeleteBackup(ctx, store.repository(), backupID)
}

// scheduleBackups installs (or, without an interval, removes) the
// scheduled job on every node.
func scheduleBackups(ctx context.Context, gc GuestCluster, bs *BackupSpec) error {
	b, err := backupsOf(gc)
	if err != nil {
		return err
	}
	if bs == nil || bs.Interval == 0 {
		return b.RemoveBackupSchedule(ctx)
	}
	keep := bs.Keep
	if keep == 0 && bs.KeepDays == 0 {
		keep = 1 << 20 // restic's --keep-last needs a number: "all"
	}
	return b.EnsureBackupSchedule(ctx, guest.BackupSchedule{Repository: bs.repository(), Interval: bs.Interval, Keep: keep, KeepDays: bs.KeepDays})
}

// SetBackupSchedule applies a changed backup block to a running cluster:
// the store is completed as at create (a key, a credential limited to the
// container when none is given) and the nodes' job rewritten, or removed
// when spec has no backup. It returns the completed store and the id of a
// credential it created, which the cluster now owns.
func (m *Manager) SetBackupSchedule(ctx context.Context, id string, spec Spec) (*BackupStore, string, error) {
	c, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return nil, "", err
	}
	defer gc.Close()
	var created string
	if spec.Backup != nil {
		store := spec.Backup.BackupStore
		if created, err = m.completeStore(ctx, &store, ObjectName(c.Name, id)+"-backup"); err != nil {
			return nil, "", fmt.Errorf("backup credentials: %w", err)
		}
		spec.Backup.BackupStore = store
	}
	if err := scheduleBackups(ctx, gc, spec.Backup); err != nil {
		return nil, created, errors.Join(err, m.deleteCredential(context.WithoutCancel(ctx), created))
	}
	if spec.Backup == nil {
		return nil, "", nil
	}
	return &spec.Backup.BackupStore, created, nil
}

// DeleteBackupCredential deletes a credential the cluster created for its
// backups (its backup block was removed).
func (m *Manager) DeleteBackupCredential(ctx context.Context, id string) error {
	return m.deleteCredential(ctx, id)
}

// The production cloud issues backup credentials.
var _ BackupCredentials = (*openstack.Client)(nil)
