package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// backupCloud is the fake cloud with Keystone's application credentials.
type backupCloud struct {
	*fakeCloud
	creds map[string]string // id -> container
}

func (c *backupCloud) CreateContainerCredential(_ context.Context, name, container string) (openstack.ApplicationCredential, error) {
	c.log.add("CreateContainerCredential " + container)
	id := "ac-" + name
	c.creds[id] = container
	return openstack.ApplicationCredential{ID: id, Name: name, Secret: "ac-secret"}, nil
}

func (c *backupCloud) DeleteApplicationCredential(_ context.Context, id string) error {
	c.log.add("DeleteApplicationCredential")
	delete(c.creds, id)
	return nil
}

func (c *backupCloud) IdentityURL() (string, string) { return "http://keystone:5000/v3", "RegionOne" }

// backupGuests makes guest clusters that back up and restore.
type backupGuests struct {
	*fakeGuests
	findErr error
	repos   []guest.BackupRepository
	sched   []guest.BackupSchedule
}

func (g *backupGuests) Open(spec guest.ClusterSpec, obs guest.Observer) (GuestCluster, error) {
	gc, err := g.fakeGuests.Open(spec, obs)
	if err != nil {
		return nil, err
	}
	return &backupGuestCluster{fakeGuestCluster: gc.(*fakeGuestCluster), bg: g}, nil
}

type backupGuestCluster struct {
	*fakeGuestCluster
	bg *backupGuests
}

func (c *backupGuestCluster) Backup(context.Context, guest.BackupRepository, guest.BackupOptions) (guest.BackupInfo, error) {
	return guest.BackupInfo{}, errors.New("not in this test")
}
func (c *backupGuestCluster) Backups(context.Context, guest.BackupRepository) ([]guest.BackupInfo, error) {
	return nil, nil
}
func (c *backupGuestCluster) DeleteBackup(context.Context, guest.BackupRepository, string) error {
	return nil
}
func (c *backupGuestCluster) PruneBackups(context.Context, guest.BackupRepository, guest.Retention) error {
	return nil
}
func (c *backupGuestCluster) EnsureBackupSchedule(_ context.Context, s guest.BackupSchedule) error {
	c.g.log.add("EnsureBackupSchedule")
	c.bg.sched = append(c.bg.sched, s)
	return nil
}
func (c *backupGuestCluster) RemoveBackupSchedule(context.Context) error {
	c.g.log.add("RemoveBackupSchedule")
	return nil
}
func (c *backupGuestCluster) FindBackup(_ context.Context, repo guest.BackupRepository, id string) (guest.BackupInfo, error) {
	c.g.log.add("FindBackup " + id)
	c.bg.repos = append(c.bg.repos, repo)
	if c.bg.findErr != nil {
		return guest.BackupInfo{}, c.bg.findErr
	}
	return guest.BackupInfo{ID: strings.Repeat("ab", 32), Cluster: "src", Time: time.Unix(1e9, 0)}, nil
}
func (c *backupGuestCluster) SeedFromBackup(_ context.Context, _ guest.BackupRepository, id, from string) error {
	c.g.log.add("SeedFromBackup " + id[:8] + " " + from)
	return nil
}

func newBackupRig() (*rig, *backupCloud, *backupGuests) {
	r := newRig()
	bc := &backupCloud{fakeCloud: r.cloud, creds: map[string]string{}}
	bg := &backupGuests{fakeGuests: r.guests}
	r.m = newManager(bc, bg, nil)
	return r, bc, bg
}

// TestCreateRestoresThenSchedules: the first node is seeded from the
// backup before the create sequence, the schedule is installed after the
// gate; the restore's own credential is deleted, the schedule's kept.
func TestCreateRestoresThenSchedules(t *testing.T) {
	r, bc, bg := newBackupRig()
	spec := testSpec()
	spec.Backup = &BackupSpec{BackupStore: BackupStore{Container: "db-backups"}, Interval: time.Hour, Keep: 3}
	spec.RestoreFrom = &RestoreSpec{BackupStore: BackupStore{Container: "src-backups", Key: "old-key"}}
	c, err := r.m.Create(testContext(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()
	find := slices.Index(calls, "FindBackup ")
	seed := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "SeedFromBackup abababab src") })
	create := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "GuestCreate") })
	sched := slices.Index(calls, "EnsureBackupSchedule")
	if find < 0 || seed < find || create < seed || sched < create {
		t.Fatalf("want FindBackup < SeedFromBackup < GuestCreate < EnsureBackupSchedule, got %q", calls)
	}
	if c.Restored == nil || c.Restored.Cluster != "src" {
		t.Errorf("restored = %+v", c.Restored)
	}
	if len(bc.creds) != 1 || bc.creds[c.BackupCredentialID] != "db-backups" {
		t.Errorf("credentials left: %v (the schedule's, for db-backups, must stay; the restore's must go)", bc.creds)
	}
	repo := bg.repos[0]
	if repo.Repository != "swift:src-backups:/" || repo.Password != "old-key" || repo.Env["OS_AUTH_URL"] != "http://keystone:5000/v3" || repo.Env["OS_APPLICATION_CREDENTIAL_SECRET"] != "ac-secret" {
		t.Errorf("restore repository = %+v", repo)
	}
	s := bg.sched[0]
	if s.Interval != time.Hour || s.Keep != 3 || len(s.Repository.Password) < 32 || c.BackupStore.Key != s.Repository.Password {
		t.Errorf("schedule = %+v; the generated key must be recorded on the cluster", s)
	}
	if err := r.m.Delete(testContext(t), c.ID, *c); err != nil {
		t.Fatal(err)
	}
	if len(bc.creds) != 0 {
		t.Errorf("credentials left after delete: %v", bc.creds)
	}
}

// TestFailedRestoreLeavesNothing: a wrong key fails the create in the
// restore phase, naming the node, and every object made is removed.
func TestFailedRestoreLeavesNothing(t *testing.T) {
	r, bc, bg := newBackupRig()
	bg.findErr = errors.New("the backup key is wrong: it does not open the repository")
	spec := testSpec()
	spec.Backup = &BackupSpec{BackupStore: BackupStore{Container: "db-backups"}}
	spec.RestoreFrom = &RestoreSpec{BackupStore: BackupStore{Container: "src-backups", Key: "wrong"}}
	c, err := r.m.Create(testContext(t), spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseRestore || pe.Node != "db-1" || !strings.Contains(err.Error(), "key is wrong") {
		t.Fatalf("error = %v, want the restore phase on db-1 saying the key is wrong", err)
	}
	if c != nil {
		t.Errorf("a cluster was returned: %+v", c)
	}
	if left := r.cloud.objects(); len(left) != 0 {
		t.Errorf("objects left after the failed restore: %v", left)
	}
	if len(bc.creds) != 0 {
		t.Errorf("credentials left after the failed restore: %v", bc.creds)
	}
	if slices.ContainsFunc(r.log.all(), func(s string) bool { return strings.HasPrefix(s, "GuestCreate") }) {
		t.Error("the create sequence ran after the restore failed")
	}
}

func TestBackupStoreValidate(t *testing.T) {
	for _, s := range []BackupStore{
		{Container: "a/b"},
		{Container: "ok", S3Endpoint: "https://s3.example", S3AccessKey: "k"},
		{Container: "ok", ApplicationCredentialID: "id"},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	s3 := BackupStore{Container: "bk", Key: "k", S3Endpoint: "https://s3.example/", S3AccessKey: "a", S3SecretKey: "s"}
	if err := s3.Validate(); err != nil {
		t.Error(err)
	}
	if repo := s3.repository(); repo.Repository != "s3:https://s3.example/bk" || repo.Env["AWS_SECRET_ACCESS_KEY"] != "s" {
		t.Errorf("S3 repository = %+v", repo)
	}
}

// A backup block added to a running cluster gets a key and a credential
// of its own; removing it removes the nodes' job.
func TestSetBackupScheduleInPlace(t *testing.T) {
	r, bc, bg := newBackupRig()
	spec := testSpec()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.Backup = &BackupSpec{BackupStore: BackupStore{Container: "later"}, Interval: 30 * time.Second, Keep: 2}
	store, created, err := r.m.SetBackupSchedule(ctx, c.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	if created == "" || bc.creds[created] != "later" || store.ApplicationCredentialID != created || len(store.Key) < 32 {
		t.Errorf("store %+v, created %q, credentials %v", store, created, bc.creds)
	}
	if len(bg.sched) != 1 || bg.sched[0].Repository.Password != store.Key || bg.sched[0].Interval != 30*time.Second {
		t.Errorf("schedules installed: %+v", bg.sched)
	}
	spec.Backup = nil
	if store, created, err = r.m.SetBackupSchedule(ctx, c.ID, spec); err != nil || store != nil || created != "" {
		t.Fatalf("removing the block: %v, %q, %v", store, created, err)
	}
	if !slices.Contains(r.log.all(), "RemoveBackupSchedule") {
		t.Error("the nodes' job was not removed")
	}
}
