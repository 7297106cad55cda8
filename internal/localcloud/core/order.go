package core

import (
	"sort"
	"time"
)

// ByCreation lists a state map in the order the real services list it:
// by creation time (oldest first for Neutron, newest first for Nova and
// Cinder), ties broken by id so lists are stable.
func ByCreation[T any](m map[string]*T, stamp func(*T) (time.Time, string), newestFirst bool) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, idi := stamp(out[i])
		tj, idj := stamp(out[j])
		if !ti.Equal(tj) {
			return ti.Before(tj) != newestFirst
		}
		return idi < idj
	})
	return out
}

// ByKey lists a state map in the order of its keys (nova lists keypairs by
// name and server groups by id).
func ByKey[T any](m map[string]*T) []*T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*T, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
