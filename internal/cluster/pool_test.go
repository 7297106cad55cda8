package cluster

import (
	"strings"
	"testing"
)

func TestValidatePoolSpec(t *testing.T) {
	ok := PoolSpec{Port: 3306, Mode: ModeSingleWriter, HealthCheck: HealthGalera, LBMethod: "ROUND_ROBIN"}
	if err := ValidatePoolSpec(ok); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
	bad := ok
	bad.HealthCheck = HealthTCP
	if err := ValidatePoolSpec(bad); err == nil || !strings.Contains(err.Error(), "allbackups") {
		t.Fatalf("single_writer with tcp accepted or unexplained: %v", err)
	}
	bad = ok
	bad.Port = 0
	if err := ValidatePoolSpec(bad); err == nil {
		t.Fatal("port 0 accepted")
	}
}

func TestMonitorSpecElectsTheWriter(t *testing.T) {
	single := monitorSpec("lb", PoolSpec{Mode: ModeSingleWriter, HealthCheck: HealthGalera})
	if single.Type != "HTTP" || single.URLPath != "/writer" || single.ExpectedCodes != "200" {
		t.Fatalf("single writer monitor = %+v", single)
	}
	multi := monitorSpec("lb", PoolSpec{Mode: ModeMultiWriter, HealthCheck: HealthGalera})
	if multi.URLPath != "/" {
		t.Fatalf("multi writer monitor = %+v", multi)
	}
	if tcp := monitorSpec("lb", PoolSpec{Mode: ModeMultiWriter, HealthCheck: HealthTCP}); tcp.Type != "TCP" {
		t.Fatalf("tcp monitor = %+v", tcp)
	}
}

func TestDesiredMembersFollowNodeOrder(t *testing.T) {
	c := &Cluster{Nodes: []Node{{Index: 2, Name: "db-2", IP: "10.200.0.12"}, {Index: 1, Name: "db-1", IP: "10.200.0.11"}}}
	got := DesiredMembers(c, &Pool{HealthCheck: HealthGalera}, 3306)
	if len(got) != 2 || got[0].Name != "db-1" || got[0].MonitorPort != ClustercheckPort || got[1].Address != "10.200.0.12" {
		t.Fatalf("members = %+v", got)
	}
}

func TestLBDescriptionRoundTrip(t *testing.T) {
	id, mode, health := parseLBDescription(lbDescription("0d5e8f3a-6a8e-4c6f-9d7e-4a5b2c1d0e9f", ModeSingleWriter, HealthGalera))
	if id != "0d5e8f3a-6a8e-4c6f-9d7e-4a5b2c1d0e9f" || mode != ModeSingleWriter || health != HealthGalera {
		t.Fatalf("parsed %q %q %q", id, mode, health)
	}
}
