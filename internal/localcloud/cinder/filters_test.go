package cinder

import (
	"maps"
	"testing"
)

func TestParseMetadataFilter(t *testing.T) {
	for raw, want := range map[string]map[string]string{
		"":                            nil,
		"{'cluster':'a'}":             {"cluster": "a"},
		"{'cluster':'a', 'role':'x'}": {"cluster": "a", "role": "x"},
		`{"cluster": "a"}`:            {"cluster": "a"},
	} {
		got, e := parseMetadataFilter(raw)
		if e != nil || !maps.Equal(got, want) {
			t.Errorf("parseMetadataFilter(%q) = %v, %v; want %v", raw, got, e, want)
		}
	}
	if _, e := parseMetadataFilter("cluster=a"); e == nil || e.Code != 400 {
		t.Errorf("malformed metadata filter accepted")
	}
}
