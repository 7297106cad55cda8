package keystone

import "testing"

func TestAccessRulePermits(t *testing.T) {
	rule := AccessRule{Service: "object-store", Method: "PUT", Path: "/v1/*/backups/**"}
	cases := []struct {
		service, method, path string
		want                  bool
	}{
		{"object-store", "PUT", "/v1/AUTH_p/backups/data/ab/abcd", true},
		{"object-store", "PUT", "/v1/AUTH_p/backups", true}, // ** matches no segment
		{"object-store", "PUT", "/v1/AUTH_p/other/data", false},
		{"object-store", "PUT", "/v1/AUTH_p/AUTH_q/backups/x", false}, // * is one segment
		{"object-store", "GET", "/v1/AUTH_p/backups/x", false},
		{"compute", "PUT", "/v1/AUTH_p/backups/x", false},
		{"object-store", "PUT", "/v1/AUTH_p/backupsX/x", false},
	}
	for _, c := range cases {
		if got := rule.permits(c.service, c.method, c.path); got != c.want {
			t.Errorf("%s %s %s: permitted %v, want %v", c.service, c.method, c.path, got, c.want)
		}
	}
	if err := (AccessRule{Service: "object-store", Method: "FETCH", Path: "/v1"}).validate(); err == nil {
		t.Error("a rule with method FETCH was accepted")
	}
}
