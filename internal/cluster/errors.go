package cluster

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound means no trace of the cluster is left in the cloud.
var ErrNotFound = errors.New("cluster not found")

// Phases of a create, named in errors and progress events.
const (
	PhaseValidate  = "validate"
	PhaseCloud     = "cloud objects"
	PhaseServers   = "servers"
	PhaseVolumes   = "volumes"
	PhaseHostKeys  = "host keys"
	PhaseSSH       = "ssh"
	PhasePrepare   = "prepare"
	PhaseBootstrap = "bootstrap"
	PhaseJoin      = "join"
	PhaseRestart   = "restart bootstrap node"
	PhaseUsers     = "users"
	PhaseGate      = "membership gate"
	PhaseDelete    = "delete"
	// Day-2 changes of a running cluster.
	PhaseSettings       = "settings"
	PhaseRootPassword   = "root password"
	PhaseVolumeGrow     = "volume grow"
	PhaseRollingRestart = "rolling restart"
)

// PhaseError says which phase, and which node if any, failed.
type PhaseError struct {
	Phase string
	Node  string // empty when the phase is not about one node
	Err   error
}

func (e *PhaseError) Error() string {
	if e.Node != "" {
		return fmt.Sprintf("%s of %s: %v", e.Phase, e.Node, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Phase, e.Err)
}

func (e *PhaseError) Unwrap() error { return e.Err }

// ReferenceError names the spec field whose reference failed.
type ReferenceError struct {
	Field string // "flavor", "image" or "network"
	Err   error
}

func (e *ReferenceError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *ReferenceError) Unwrap() error { return e.Err }

// Nova's fault messages when the scheduler finds no hypervisor for a
// server: the first from the scheduler, the second when parallel boots
// used up the retries (typical for strict anti-affinity, issue 17).
var noHostFaults = []string{
	"No valid host was found",
	"Exceeded maximum number of retries",
	"Exhausted all hosts available",
}

// explainPlacement adds what to change to an error whose Nova fault says
// no host could take the server; other errors pass unchanged.
func explainPlacement(err error, antiAffinity string, nodeCount int) error {
	if err == nil || !isNoHostFault(err) {
		return err
	}
	if antiAffinity == "anti-affinity" {
		return fmt.Errorf("%w. anti_affinity = \"anti-affinity\" needs a hypervisor of its own for each of the %d nodes: "+
			"set anti_affinity = \"soft-anti-affinity\" to let nodes share a hypervisor when there are too few, "+
			"or check that the flavor fits the free capacity", err, nodeCount)
	}
	if antiAffinity == "" {
		antiAffinity = "none"
	}
	return fmt.Errorf("%w. Nova found no hypervisor with room for the server (anti_affinity = %q): check that the flavor fits the free capacity of the cloud",
		err, antiAffinity)
}

func isNoHostFault(err error) bool {
	msg := err.Error()
	for _, f := range noHostFaults {
		if strings.Contains(msg, f) {
			return true
		}
	}
	return false
}
