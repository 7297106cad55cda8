package provider

import (
	"os"
	"strings"
	"testing"
)

// TestAccLocalCloudLeftEmpty is make test's one whole-cloud leak check:
// tools/test.sh runs it alone (PXC_LEAK_CHECK=1) against each local cloud
// it started, once every test on that cloud has destroyed what it made. It
// fails on any object, host or disk the cloud still holds, and on any
// network namespace of the cloud's servers or load balancers still there.
// After the cloud is stopped, tools/test.sh checks that no namespace, loop
// device or process of it outlived it.
func TestAccLocalCloudLeftEmpty(t *testing.T) {
	if os.Getenv("PXC_LEAK_CHECK") == "" {
		t.Skip("tools/test.sh runs the whole-cloud leak check once, at the end (PXC_LEAK_CHECK=1)")
	}
	lc := requireLocalCloud(t)
	if err := lc.checkNothingLeft(t)(nil); err != nil {
		t.Error(err)
	}
	bridge := os.Getenv("LOCALCLOUD_BRIDGE")
	if bridge == "" {
		t.Fatal("LOCALCLOUD_BRIDGE is not set: the local cloud's env names its network")
	}
	ents, err := os.ReadDir("/run/netns")
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("list network namespaces: %v", err)
	}
	var left []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), bridge+"-") {
			left = append(left, e.Name())
		}
	}
	if len(left) > 0 {
		t.Errorf("network namespaces of the local cloud left after every test: %s", strings.Join(left, ", "))
	}
}
