package cluster

import (
	"errors"
	"strings"
	"testing"
)

func restartCalls(r *rig, from int) []string {
	var out []string
	for _, c := range r.log.all()[from:] {
		if strings.HasPrefix(c, "RestartMember ") || strings.HasPrefix(c, "MoveWriter ") || strings.HasPrefix(c, "DrainClients ") {
			out = append(out, c)
		}
	}
	return out
}

// Readers first in node order, the writer last and moved away (its
// clients drained) before its restart; a failure stops the roll there.
func TestRollingRestartWriterLast(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c.Writer = "db-2"
	r.guests.writer = "db-2"
	if got := strings.Join(RestartOrder(c), ","); got != "db-1,db-3,db-2" {
		t.Fatalf("order %s", got)
	}
	mark := len(r.log.all())
	if err := r.m.RollingRestart(ctx, c, spec, "innodb_log_file_size is not dynamic"); err != nil {
		t.Fatal(err)
	}
	want := "RestartMember db-1,RestartMember db-3,MoveWriter db-2,DrainClients db-2,RestartMember db-2"
	if got := strings.Join(restartCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}

	// db-3 fails: the writer (now db-1) is neither moved nor restarted.
	r.guests.restartErr = map[string]error{"db-3": errors.New("mysqld did not come back")}
	c.Writer = "db-1"
	r.guests.writer = "db-1"
	mark = len(r.log.all())
	err := r.m.RollingRestart(ctx, c, spec, "why")
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseRollingRestart || pe.Node != "db-3" {
		t.Fatalf("err %v, want the rolling restart phase on db-3", err)
	}
	if got := strings.Join(restartCalls(r, mark), ","); got != "RestartMember db-2,RestartMember db-3" {
		t.Errorf("calls after a failure %s", got)
	}
}
