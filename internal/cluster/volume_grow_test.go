package cluster

import (
	"errors"
	"strings"
	"testing"
)

// dayTwoCalls keeps the calls of a day-2 step: extends and filesystem grows.
func dayTwoCalls(r *rig, from int) []string {
	var out []string
	for _, c := range r.log.all()[from:] {
		if strings.HasPrefix(c, "ExtendVolume ") || strings.HasPrefix(c, "GrowFilesystem ") {
			out = append(out, c)
		}
	}
	return out
}

// One node at a time: its volume, then its filesystem, before the next
// node is touched; an interrupted grow finishes on the next call.
func TestGrowVolumesOneNodeAtATime(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	spec.Volume.SizeGiB = 2
	// The filesystem of db-2 fails: db-3 is left alone.
	r.guests.growErr = map[string]error{"db-2": errors.New("resize2fs: boom")}
	mark := len(r.log.all())
	err = r.m.GrowVolumes(ctx, c, spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseVolumeGrow || pe.Node != "db-2" {
		t.Fatalf("err %v, want the volume grow phase on db-2", err)
	}
	want := []string{"ExtendVolume db-1-data", "GrowFilesystem db-1", "ExtendVolume db-2-data", "GrowFilesystem db-2"}
	if got := dayTwoCalls(r, mark); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %v, want %v", got, want)
	}
	// The next apply: db-1 and db-2 already have the size, only their
	// filesystems are grown (idempotent); db-3 gets both.
	r.guests.growErr = nil
	c, err = r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	mark = len(r.log.all())
	if err := r.m.GrowVolumes(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	want = []string{"GrowFilesystem db-1", "GrowFilesystem db-2", "ExtendVolume db-3-data", "GrowFilesystem db-3"}
	if got := dayTwoCalls(r, mark); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %v, want %v", got, want)
	}
	for _, v := range r.cloud.volumes {
		if v.SizeGiB != 2 {
			t.Errorf("volume %s is %d GiB", v.Name, v.SizeGiB)
		}
	}
	if got := r.guests.grown[len(r.guests.grown)-1]; got != "db-3 2147483648" {
		t.Errorf("last grow %q", got)
	}
	// Shrinking is refused before anything is touched.
	c, _ = r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	spec.Volume.SizeGiB = 1
	mark = len(r.log.all())
	if err := r.m.GrowVolumes(ctx, c, spec); err == nil {
		t.Fatal("a shrink was accepted")
	}
	if got := dayTwoCalls(r, mark); len(got) != 0 {
		t.Errorf("a refused shrink touched %v", got)
	}
}
