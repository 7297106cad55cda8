package cluster

import (
	"errors"
	"strings"
	"testing"
)

// Nova's two wordings for "no hypervisor can take this server" name
// anti_affinity and its soft variant (issue 10 defect 9, issue 17 item 4).
func TestNoHostFaultNamesAntiAffinity(t *testing.T) {
	for _, fault := range []string{
		"No valid host was found. There are not enough hosts available.",
		"Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance 5f0c.",
	} {
		t.Run(fault[:20], func(t *testing.T) {
			r := newRig()
			nova := errors.New("wait for server db-3 to be ACTIVE: server is ERROR: " + fault)
			r.cloud.failOn["WaitServerActive db-3"] = nova
			_, err := r.m.Create(testContext(t), testSpec())
			var pe *PhaseError
			if !errors.As(err, &pe) || pe.Phase != PhaseServers || pe.Node != "db-3" || !errors.Is(err, nova) {
				t.Fatalf("Create err = %v", err)
			}
			for _, want := range []string{`anti_affinity = "anti-affinity"`, `anti_affinity = "soft-anti-affinity"`, "3 nodes", fault} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
		})
	}
}

func TestExplainPlacement(t *testing.T) {
	other := errors.New("server is ERROR: disk full")
	if got := explainPlacement(other, "anti-affinity", 3); got != other {
		t.Errorf("an unrelated fault was changed: %v", got)
	}
	noHost := errors.New("No valid host was found")
	if got := explainPlacement(noHost, "", 3); !strings.Contains(got.Error(), `anti_affinity = "none"`) || strings.Contains(got.Error(), "soft-anti-affinity") {
		t.Errorf("without a server group: %v", got)
	}
	if explainPlacement(nil, "anti-affinity", 3) != nil {
		t.Error("nil became an error")
	}
}
