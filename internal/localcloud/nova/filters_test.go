package nova

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

func TestTagsMatch(t *testing.T) {
	have := []string{"pxc", "cluster-a"}
	cases := []struct {
		all, anyOf, notAll, notAny string
		want                       bool
	}{
		{"", "", "", "", true},
		{"pxc", "", "", "", true},
		{"pxc,cluster-a", "", "", "", true},
		{"pxc,cluster-b", "", "", "", false},
		{"", "x,cluster-a", "", "", true},
		{"", "x,y", "", "", false},
		{"", "", "pxc,cluster-a", "", false},
		{"", "", "pxc,x", "", true},
		{"", "", "", "x,pxc", false},
		{"", "", "", "x,y", true},
	}
	for _, c := range cases {
		if got := tagsMatch(have, c.all, c.anyOf, c.notAll, c.notAny); got != c.want {
			t.Errorf("tagsMatch(%q,%q,%q,%q) = %v, want %v", c.all, c.anyOf, c.notAll, c.notAny, got, c.want)
		}
	}
}

func TestNegotiateMicroversion(t *testing.T) {
	// Covered end to end in TestAPIConformance; here the edges.
	for _, c := range []struct {
		in   string
		code int
		want string
	}{{"", 0, "2.1"}, {"2.1", 0, "2.1"}, {"2.0", 406, ""}, {"3.1", 406, ""}, {"latest", 0, "2.79"}, {"2", 400, ""}, {"2.-1", 400, ""}} {
		r := newRequestWithHeader("X-OpenStack-Nova-API-Version", c.in)
		mv, e := core.NegotiateMicroversion(r, "compute", "X-OpenStack-Nova-API-Version", novaMin, novaMax)
		switch {
		case c.code != 0 && (e == nil || e.Code != c.code):
			t.Errorf("%q: %v, want %d", c.in, e, c.code)
		case c.code == 0 && (e != nil || mv.String() != c.want):
			t.Errorf("%q: %v %v, want %s", c.in, mv, e, c.want)
		}
	}
}

func newRequestWithHeader(k, v string) *http.Request {
	r := httptest.NewRequest("GET", "/compute/v2.1/flavors", nil)
	if v != "" {
		r.Header.Set(k, v)
	}
	return r
}
