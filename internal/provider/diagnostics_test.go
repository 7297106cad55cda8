package provider

import (
	"errors"
	"strings"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// The summary names the phase properly and the detail says phase and node
// once (issue 17 item 2).
func TestCreateFailedNamesThePhaseOnce(t *testing.T) {
	err := &cluster.PhaseError{Phase: cluster.PhaseSSH, Node: "rl-3", Err: errors.New("no SSH answer from 10.0.0.225:22")}
	d := createFailed("rl", nil, err)
	if len(d) != 1 {
		t.Fatalf("diagnostics = %v", d)
	}
	if got := d[0].Summary(); got != "Cluster Create Failed In Phase SSH" {
		t.Errorf("summary = %q", got)
	}
	detail := d[0].Detail()
	if !strings.Contains(detail, `in phase SSH on node rl-3: no SSH answer from 10.0.0.225:22`) || strings.Count(detail, "rl-3") != 1 {
		t.Errorf("detail = %q", detail)
	}
	hk := createFailed("rl", nil, &cluster.PhaseError{Phase: cluster.PhaseHostKeys, Node: "rl-2", Err: errors.New("x")})
	if got := hk[0].Summary(); got != "Cluster Create Failed In Phase Host Keys" {
		t.Errorf("summary = %q", got)
	}
}
