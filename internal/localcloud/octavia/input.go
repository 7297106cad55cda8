package octavia

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

const maxBody = 1 << 20

// object is one JSON object of a request body, read field by field with
// WSME's leniency (numbers may come as strings, as in Octavia's own samples).
// The first problem is kept in err; later reads are no-ops.
type object struct {
	fields map[string]json.RawMessage
	err    *apiError
}

// readBody reads {"<root>": {...}} and returns the inner object.
func readBody(r *http.Request, root string) (*object, *apiError) {
	raw, err := readRoot(r)
	if err != nil {
		return nil, err
	}
	inner, ok := raw[root]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "Missing argument: \"%s\"", root)
	}
	o := &object{}
	if err := json.Unmarshal(inner, &o.fields); err != nil || o.fields == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%s'. Not an object", root, truncate(inner))
	}
	return o, nil
}

func readRoot(r *http.Request) (map[string]json.RawMessage, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Request body too large.")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	return raw, nil
}

func newObject(raw json.RawMessage, field string) *object {
	o := &object{}
	if err := json.Unmarshal(raw, &o.fields); err != nil || o.fields == nil {
		o.err = invalidInput(field, truncate(raw), "Not an object")
	}
	return o
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

func (o *object) fail(e *apiError) {
	if o.err == nil {
		o.err = e
	}
}

// present reports whether the field is in the body (null included).
func (o *object) present(k string) bool { _, ok := o.fields[k]; return ok }

func (o *object) isNull(k string) bool {
	v, ok := o.fields[k]
	return ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

func (o *object) value(k string) (json.RawMessage, bool) {
	if o.err != nil {
		return nil, false
	}
	v, ok := o.fields[k]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

func (o *object) require(k string) bool {
	if _, ok := o.value(k); !ok {
		o.fail(invalidInput(k, "None", "Mandatory field missing."))
		return false
	}
	return true
}

// str reads a string of at most maxLen characters; absent or null: nil.
func (o *object) str(k string, maxLen int) *string {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected '<class 'str'>', got '"+jsonKind(v)+"'"))
		return nil
	}
	if maxLen > 0 && len(s) > maxLen {
		o.fail(invalidInput(k, s, fmt.Sprintf("Value should have a maximum character requirement of %d", maxLen)))
		return nil
	}
	return &s
}

// integer reads an integer (or a string holding one) within [min, max].
func (o *object) integer(k string, min, max int) *int {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var n int
	var s string
	switch {
	case json.Unmarshal(v, &n) == nil:
	case json.Unmarshal(v, &s) == nil:
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			o.fail(invalidInput(k, s, "Invalid integer value"))
			return nil
		}
	default:
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected an integer"))
		return nil
	}
	if n < min {
		o.fail(invalidInput(k, n, fmt.Sprintf("Value should be greater or equal to %d", min)))
		return nil
	}
	if n > max {
		o.fail(invalidInput(k, n, fmt.Sprintf("Value should be lower or equal to %d", max)))
		return nil
	}
	return &n
}

func (o *object) boolean(k string) *bool {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var b bool
	var s string
	switch {
	case json.Unmarshal(v, &b) == nil:
	case json.Unmarshal(v, &s) == nil:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "on":
			b = true
		case "false", "0", "no", "off":
			b = false
		default:
			o.fail(invalidInput(k, s, "Invalid boolean value"))
			return nil
		}
	default:
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected a boolean"))
		return nil
	}
	return &b
}

func (o *object) float(k string) *float64 {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var f float64
	var s string
	switch {
	case json.Unmarshal(v, &f) == nil:
	case json.Unmarshal(v, &s) == nil:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			o.fail(invalidInput(k, s, "Invalid float value"))
			return nil
		}
	default:
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected a number"))
		return nil
	}
	return &f
}

func (o *object) enum(k string, allowed ...string) *string {
	s := o.str(k, 0)
	if s == nil {
		return nil
	}
	for _, a := range allowed {
		if *s == a {
			return s
		}
	}
	o.fail(invalidInput(k, *s, "Value should be one of: '"+strings.Join(allowed, "', '")+"'"))
	return nil
}

// strList reads a list of strings; absent or null: nil.
func (o *object) strList(k string) *[]string {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil {
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected a list of strings"))
		return nil
	}
	if l == nil {
		l = []string{}
	}
	return &l
}

func (o *object) strMap(k string) *map[string]string {
	v, ok := o.value(k)
	if !ok {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(v, &m); err != nil {
		o.fail(invalidInput(k, truncate(v), "Wrong type. Expected a dict of strings"))
		return nil
	}
	return &m
}

func (o *object) ip(k string) *netip.Addr {
	s := o.str(k, 64)
	if s == nil {
		return nil
	}
	a, err := netip.ParseAddr(*s)
	if err != nil || a.Zone() != "" {
		o.fail(invalidInput(k, *s, "Value should be IPv4 or IPv6 format"))
		return nil
	}
	return &a
}

// uuid reads an id; Octavia's UuidType accepts only UUIDs.
func (o *object) uuid(k string) *string {
	s := o.str(k, 36)
	if s == nil {
		return nil
	}
	if !isUUID(*s) {
		o.fail(invalidInput(k, *s, "Value should be UUID format"))
		return nil
	}
	return s
}

func jsonKind(v json.RawMessage) string {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return "empty"
	case t[0] == '"':
		return "str"
	case t[0] == '{':
		return "dict"
	case t[0] == '[':
		return "list"
	case t[0] == 't' || t[0] == 'f':
		return "bool"
	default:
		return "number"
	}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
