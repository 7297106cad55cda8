package cluster

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

func TestDiffSettings(t *testing.T) {
	from := testSpec()
	from.SSTMethod = "rsync"
	from.Parameters = map[string]string{"max_connections": "100", "wait_timeout": "60", "long_query_time": "2"}
	to := from
	to.Parameters = map[string]string{"max_connections": "200", "long_query_time": "2", "tmp_table_size": "32M"}
	to.FailureDetection = 9 * time.Second
	got := DiffSettings(from, to)
	want := SettingsChange{SetParameters: []string{"max_connections", "tmp_table_size"}, ResetParameters: []string{"wait_timeout"}, FailureDetection: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff %+v, want %+v", got, want)
	}
	if strings.Join(got.Parameters(), ",") != "max_connections,tmp_table_size,wait_timeout" {
		t.Errorf("parameters %v", got.Parameters())
	}
	if !DiffSettings(from, from).Empty() {
		t.Error("a spec differs from itself")
	}
	to = from
	to.SSTMethod = "mariabackup"
	if ch := DiffSettings(from, to); !ch.SSTMethod || ch.FailureDetection || len(ch.Parameters()) != 0 {
		t.Errorf("sst change %+v", ch)
	}
}

// The guests get the new spec and exactly the change; an empty change
// does not reach them.
func TestApplySettingsHandsTheChangeToTheGuests(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	if err := r.m.ApplySettings(ctx, c, spec, SettingsChange{}); err != nil {
		t.Fatal(err)
	}
	if len(r.guests.settings) != 0 {
		t.Fatalf("an empty change reached the guests: %+v", r.guests.settings)
	}
	spec.Parameters = map[string]string{"max_connections": "300"}
	spec.FailureDetection = 7 * time.Second
	if err := r.m.ApplySettings(ctx, c, spec, SettingsChange{SetParameters: []string{"max_connections"}, FailureDetection: true}); err != nil {
		t.Fatal(err)
	}
	want := []guest.SettingsChange{{Set: []string{"max_connections"}, ProviderOptions: true}}
	if !reflect.DeepEqual(r.guests.settings, want) {
		t.Errorf("guests got %+v, want %+v", r.guests.settings, want)
	}
	last := r.guests.specs[len(r.guests.specs)-1]
	if last.Parameters["max_connections"] != "300" || last.SuspectTimeout != 7*time.Second {
		t.Errorf("guests opened with %+v", last)
	}
}

func TestStaticParametersAsksTheServers(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	r.guests.static = map[string]bool{"innodb_log_file_size": true}
	got, err := r.m.StaticParameters(ctx, c, spec, []string{"innodb_log_file_size", "max_connections"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"innodb_log_file_size"}) {
		t.Errorf("static %v", got)
	}
}

// The rotation opens the guests with the new password and moves root from
// every allowed network with it.
func TestRotateRootPasswordMovesRootFromAllowedNetworks(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	spec.RootPassword = "rotated-secret"
	if err := r.m.RotateRootPassword(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	if len(r.guests.rotations) != 1 {
		t.Fatalf("rotations %d", len(r.guests.rotations))
	}
	users := r.guests.rotations[0]
	if len(users) != 1 || users[0].Host != "192.0.2.0/255.255.255.0" || users[0].Password != "rotated-secret" {
		t.Errorf("users %+v", users)
	}
	last := r.guests.specs[len(r.guests.specs)-1]
	if last.RootPassword != "rotated-secret" || last.SSTPassword != derivedSecret("rotated-secret", "sst") ||
		last.Clustercheck == nil || last.Clustercheck.Password != derivedSecret("rotated-secret", "clustercheck") {
		t.Errorf("guests opened without the new passwords")
	}
}

// A spec without a root password (write-only in Terraform) reads it from
// the nodes, and the live read uses it.
func TestReadTakesAWriteOnlyPasswordFromTheNodes(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	r.guests.stored = "kept-on-the-nodes"
	spec.RootPassword = ""
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	got, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if spec.RootPassword != "kept-on-the-nodes" {
		t.Errorf("spec password %q", spec.RootPassword)
	}
	last := r.guests.specs[len(r.guests.specs)-1]
	if last.RootPassword != "kept-on-the-nodes" || got.Status != StatusActive {
		t.Errorf("live read with %q, status %s", last.RootPassword, got.Status)
	}
}

// builtSpecCluster creates spec's cluster on the rig and gives spec the
// generated key, as the provider's state does after a create.
func builtSpecCluster(t *testing.T, r *rig, spec *Spec) *Cluster {
	t.Helper()
	c, err := r.m.Create(testContext(t), *spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	return c
}
