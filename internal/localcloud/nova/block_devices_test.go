package nova

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
)

// bootVolumes takes the image root beside imageRef and existing volumes
// in the spellings Nova's schema allows, and refuses the rest with Nova's
// message or one naming the local cloud's limit.
func TestBootVolumesMapping(t *testing.T) {
	img := glance.TheImage()
	root := `{"source_type":"image","destination_type":"local","boot_index":0,"uuid":"` + img.ID + `"}`
	cases := []struct {
		name    string
		img     glance.Image
		entries string
		want    []string // the volumes, or nil with err
		err     string   // a part of the message
	}{
		{"gophercloud", img, `[{"source_type":"image","destination_type":"local","boot_index":0,"uuid":"` + img.ID +
			`","delete_on_termination":true},{"source_type":"volume","destination_type":"volume","uuid":"v1","boot_index":-1,"delete_on_termination":false}]`,
			[]string{"v1"}, ""},
		{"boot_index absent, null or a string", img, `[` + root + `,{"source_type":"volume","destination_type":"volume","uuid":"v1"},` +
			`{"source_type":"volume","destination_type":"volume","uuid":"v2","boot_index":null},` +
			`{"source_type":"volume","destination_type":"volume","uuid":"v3","boot_index":"-1","delete_on_termination":"False"}]`,
			[]string{"v1", "v2", "v3"}, ""},
		{"image root as a string index", img, `[{"source_type":"image","destination_type":"local","boot_index":"0","uuid":"` + img.ID + `"}]`, []string{}, ""},
		{"no imageRef", glance.Image{}, `[` + root + `]`, nil, "Mapping image to local is not supported."},
		{"image root at -1", img, `[{"source_type":"image","destination_type":"local","boot_index":-1,"uuid":"` + img.ID + `"}]`, nil, "Mapping image to local is not supported."},
		{"two roots", img, `[` + root + `,` + root + `]`, nil, "Boot sequence for the instance"},
		{"no root", img, `[{"source_type":"volume","destination_type":"volume","uuid":"v1","boot_index":-1}]`, nil, "Boot sequence for the instance"},
		{"unknown image", img, `[{"source_type":"image","destination_type":"local","boot_index":0,"uuid":"nope"}]`, nil, "failed to get image nope."},
		{"missing uuid", img, `[` + root + `,{"source_type":"volume","destination_type":"volume"}]`, nil, "Missing device UUID."},
		{"bad source_type", img, `[{"source_type":"disk","uuid":"v1"}]`, nil, "Invalid input for field/attribute source_type"},
		{"bad boot_index", img, `[` + root + `,{"source_type":"volume","destination_type":"volume","uuid":"v1","boot_index":"x"}]`, nil, "field/attribute boot_index"},
		{"bad delete_on_termination", img, `[` + root + `,{"source_type":"volume","destination_type":"volume","uuid":"v1","delete_on_termination":"maybe"}]`, nil, "field/attribute delete_on_termination"},
		{"delete_on_termination", img, `[` + root + `,{"source_type":"volume","destination_type":"volume","uuid":"v1","delete_on_termination":"yes"}]`, nil, "the local cloud keeps"},
		{"new volume from the image", img, `[{"source_type":"image","destination_type":"volume","boot_index":0,"uuid":"` + img.ID + `","volume_size":1}]`, nil, "the local cloud does not take 'volume_size'"},
		{"blank", img, `[` + root + `,{"source_type":"blank","destination_type":"local","boot_index":-1}]`, nil, "the local cloud maps only"},
	}
	for _, c := range cases {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.entries), &entries); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, e := bootVolumes(entries, c.img)
		switch {
		case c.err == "" && (e != nil || !slices.Equal(got, c.want)):
			t.Errorf("%s: %v %v, want %v", c.name, got, e, c.want)
		case c.err != "" && (e == nil || e.Code != 400 || !strings.Contains(e.Message, c.err)):
			t.Errorf("%s: %v %v, want 400 with %q", c.name, got, e, c.err)
		case e != nil && !strings.HasPrefix(e.Message, "Block Device Mapping is Invalid: ") && !strings.HasPrefix(e.Message, "Invalid input for field/attribute "):
			t.Errorf("%s: %q is not in Nova's wording", c.name, e.Message)
		}
	}
}
