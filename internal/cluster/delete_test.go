package cluster

import (
	"errors"
	"testing"
)

// A failed create may leave objects its caller never learnt of: a refresh
// (Read by id alone) must still see them, and a Delete knowing only the id
// must remove them. Server groups and keypairs carry no metadata, so this
// fails unless they are found by name.
func TestDeleteByIDAloneAfterFailureInAnyPhase(t *testing.T) {
	failures := map[string]func(r *rig){
		"security group": func(r *rig) { r.cloud.failOn["CreateSecurityGroup"] = errInjected },
		"server group":   func(r *rig) { r.cloud.failOn["CreateServerGroup"] = errInjected },
		"port":           func(r *rig) { r.cloud.failOn["CreatePort db-1"] = errInjected },
		"server":         func(r *rig) { r.cloud.failOn["CreateServer db-2"] = errInjected },
		"volume":         func(r *rig) { r.cloud.failOn["CreateVolume db-3-data"] = errInjected },
		"attach":         func(r *rig) { r.cloud.failOn["AttachVolume db-1"] = errInjected },
		"ssh":            func(r *rig) { r.guests.hostKeyErr["*"] = errInjected },
	}
	for name, fail := range failures {
		t.Run(name, func(t *testing.T) {
			r := newRig()
			fail(r)
			ctx := testContext(t)
			c, err := r.m.Create(ctx, testSpec())
			if !errors.Is(err, errInjected) || c == nil {
				t.Fatalf("Create = %+v, %v; want the cluster and the injected failure", c, err)
			}
			made := r.cloud.objects()
			read, err := r.m.Read(ctx, c.ID, nil, nil)
			if err != nil {
				t.Fatalf("refresh after the failure: %v (objects in the cloud: %v)", err, made)
			}
			if made["server groups"] > 0 && read.ServerGroupID == "" {
				t.Errorf("refresh lost the server group (objects in the cloud: %v)", made)
			}
			if err := r.m.Delete(ctx, c.ID, Cluster{}); err != nil {
				t.Fatalf("Delete by id: %v", err)
			}
			if left := r.cloud.objects(); len(left) != 0 {
				t.Errorf("left behind after Delete by id: %v", left)
			}
		})
	}
}

// A create whose answer is lost (a 502 after the cloud made the object)
// leaves an object no id was recorded for: Delete finds it by name or
// metadata.
func TestDeleteFindsObjectsWhoseCreateAnswerWasLost(t *testing.T) {
	for _, call := range []string{
		"ImportKeyPair", "CreateSecurityGroup", "CreateServerGroup",
		"CreatePort db-2", "CreateVolume db-2-data", "CreateServer db-2",
	} {
		t.Run(call, func(t *testing.T) {
			r := newRig()
			r.cloud.loseAnswer[call] = errInjected
			ctx := testContext(t)
			c, err := r.m.Create(ctx, testSpec())
			if !errors.Is(err, errInjected) || c == nil {
				t.Fatalf("Create = %+v, %v; want the cluster and the injected failure", c, err)
			}
			if err := r.m.Delete(ctx, c.ID, *c); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if left := r.cloud.objects(); len(left) != 0 {
				t.Errorf("left behind after Delete: %v", left)
			}
		})
	}
}
